// The memory backend's optional capabilities, so tests and the contract suite can exercise them:
// compare-and-set (`ifVersion`), soft delete (`restore`, `purge`) and pushed change events.

import { printedForms } from "@keyway/backend-test-suite";
import { describe, expect, it } from "vitest";
import type { SecretChange } from "../src/backend-kit/index.js";
import { ConflictError, createMemoryBackend, SecretNotFoundError, type SecretRef } from "../src/index.js";

const ref: SecretRef = { tenant: "acme", namespace: "company.team", key: "DB_PASSWORD" };
const VALUE = "pä$$wörd\n'\"秘密";

describe("createMemoryBackend: compare-and-set", () => {
  it("declares it, writes at the expected version, refuses any other with ConflictError and writes nothing", async () => {
    const backend = createMemoryBackend();
    expect(backend.capabilities.compareAndSet).toBe(true);
    await backend.put?.(ref, VALUE, {}, { ifVersion: "" }); // must not exist: it does not
    await expect(backend.put?.(ref, "second", {}, { ifVersion: "" })).rejects.toBeInstanceOf(ConflictError);
    await backend.put?.(ref, "second", {}, { ifVersion: "1" });
    const stale = await backend.put?.(ref, "third", {}, { ifVersion: "1" }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale).toMatchObject({ code: "CONFLICT", backend: "memory" });
    expect(printedForms(stale)).not.toContain("third");
    expect((await backend.get(ref)).reveal()).toBe("second");
    expect(await backend.probeVersion?.(ref)).toBe("2");
    await expect(backend.delete?.(ref, { ifVersion: "1" })).rejects.toBeInstanceOf(ConflictError);
    await backend.delete?.(ref, { ifVersion: "2" });
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("a version of another tenant or namespace does not count", async () => {
    const backend = createMemoryBackend();
    await backend.put?.({ ...ref, tenant: "globex" }, "other-tenant");
    await backend.put?.({ ...ref, namespace: "company" }, "parent");
    await backend.put?.(ref, VALUE, {}, { ifVersion: "" });
    expect((await backend.get(ref)).reveal()).toBe(VALUE);
  });
});

describe("createMemoryBackend: soft delete", () => {
  it("delete hides the secret; restore brings it back with its versions; purge removes it for good", async () => {
    const backend = createMemoryBackend();
    expect(backend.capabilities.softDelete).toBe(true);
    await backend.put?.(ref, "first");
    await backend.put?.(ref, VALUE);
    await backend.delete?.(ref);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await backend.list?.(ref.namespace, { tenant: ref.tenant })).toEqual([]);
    await backend.restore?.(ref);
    const back = await backend.get(ref);
    expect(back.reveal()).toBe(VALUE);
    expect(back.metadata.version).toBe("2");
    expect((await backend.get(ref, { version: "1" })).reveal()).toBe("first");
    await expect(backend.restore?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError); // nothing deleted now
    await backend.delete?.(ref);
    await backend.purge?.(ref);
    await expect(backend.restore?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.purge?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    // Numbers are never reused, even after a purge: a watch never mistakes a new secret for the old.
    await backend.put?.(ref, "new");
    expect(await backend.probeVersion?.(ref)).toBe("3");
  });

  it("restoring over a secret created again is a conflict; purge removes a live secret too", async () => {
    const backend = createMemoryBackend();
    await backend.put?.(ref, "old");
    await backend.delete?.(ref);
    await backend.put?.(ref, "created-again");
    await expect(backend.restore?.(ref)).rejects.toBeInstanceOf(ConflictError);
    expect((await backend.get(ref)).reveal()).toBe("created-again");
    await backend.purge?.(ref);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.restore?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });
});

describe("createMemoryBackend: pushed change events", () => {
  function listen(backend: ReturnType<typeof createMemoryBackend>) {
    const changes: SecretChange[] = [];
    const waiters: Array<() => void> = [];
    const subscribed = backend.subscribe?.({
      change(change) {
        changes.push(change);
        for (const w of waiters.splice(0)) w();
      },
      lost() {},
    });
    return {
      changes,
      subscribed: subscribed as Promise<{ close(): Promise<void> }>,
      async count(n: number) {
        while (changes.length < n) await new Promise<void>((r) => waiters.push(r));
      },
    };
  }

  it("every write is one event, in commit order, with names and versions and never the value", async () => {
    const backend = createMemoryBackend();
    const heard = listen(backend);
    await heard.subscribed;
    await backend.put?.(ref, VALUE);
    await backend.put?.(ref, "second");
    await backend.delete?.(ref);
    await backend.restore?.(ref);
    await backend.purge?.(ref);
    await heard.count(5);
    const { tenant, namespace, key } = ref;
    expect(heard.changes).toEqual([
      { tenant, namespace, key, version: "1", deleted: false },
      { tenant, namespace, key, version: "2", deleted: false },
      { tenant, namespace, key, version: undefined, deleted: true },
      { tenant, namespace, key, version: "2", deleted: false },
      { tenant, namespace, key, version: undefined, deleted: true },
    ]);
    expect(printedForms(heard.changes)).not.toContain("second");
  });

  it("a refused write sends nothing; close() stops the deliveries; a listener that throws breaks no write", async () => {
    const backend = createMemoryBackend();
    const thrower = backend.subscribe?.({
      change() {
        throw new Error("the subscriber's own bug");
      },
      lost() {},
    });
    await thrower;
    const heard = listen(backend);
    const subscription = await heard.subscribed;
    await expect(backend.put?.(ref, "x", {}, { ifVersion: "7" })).rejects.toBeInstanceOf(ConflictError);
    await backend.put?.(ref, "first");
    await heard.count(1);
    expect(heard.changes).toHaveLength(1);
    await subscription.close();
    await backend.put?.(ref, "after-close");
    const later = listen(backend);
    await later.subscribed;
    await backend.put?.(ref, "third");
    await later.count(1);
    // The closed subscription heard nothing after its close (the later one heard only its own).
    expect(heard.changes).toHaveLength(1);
    expect(later.changes).toEqual([expect.objectContaining({ version: "3" })]);
  });
});
