// Google Secret Manager specifics, against the real emulator: versions and their states, the
// 255-character id limit, case, binary values, list paging and filtering, aborts and outages.
import { createServer } from "node:net";
import {
  BackendUnavailableError,
  InvalidReferenceError,
  type SecretBackend,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcpBackend, encodeSecretId, type GcpSecretManagerClient } from "../src/index.js";
import { adminClient, endpoint, randomPrefix, randomProject } from "./emulator.js";

describe.skipIf(!endpoint)("gcp backend on the emulator", () => {
  const project = randomProject();
  const prefix = randomPrefix();
  const admin = adminClient();
  const secretPath = (ref: SecretRef) => `projects/${project}/secrets/${encodeSecretId(prefix, ref)}`;
  let backend: SecretBackend;
  let n = 0;
  const ref = (key = `K${n++}`, namespace = "team.app"): SecretRef => ({ namespace, key });
  const make = (extra: Partial<Parameters<typeof createGcpBackend>[0]> = {}) =>
    createGcpBackend({ project, prefix, emulatorEndpoint: endpoint as string, ...extra } as Parameters<
      typeof createGcpBackend
    >[0]);

  beforeAll(() => {
    backend = make();
  });
  afterAll(async () => {
    await backend.close?.();
    await admin.close();
  });

  it("puts again after a delete, starting a new secret at version 1", async () => {
    const r = ref();
    await backend.put?.(r, "one", { description: "first life" });
    await backend.put?.(r, "two");
    expect((await backend.get(r)).metadata.version).toBe("2");
    await backend.delete?.(r);
    await expect(backend.get(r)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.delete?.(r)).rejects.toBeInstanceOf(SecretNotFoundError);
    await backend.put?.(r, "three");
    const value = await backend.get(r);
    expect(value.reveal()).toBe("three");
    expect(value.metadata.version).toBe("1");
    // The description died with the old secret.
    expect(value.metadata.description).toBeUndefined();
  });

  it("reads a version by number, and latest", async () => {
    const r = ref();
    for (const v of ["v1", "v2", "v3"]) await backend.put?.(r, v);
    expect((await backend.get(r, { version: "2" })).reveal()).toBe("v2");
    expect((await backend.get(r, { version: "1" })).reveal()).toBe("v1");
    expect((await backend.get(r, { version: "latest" })).reveal()).toBe("v3");
    await expect(backend.get(r, { version: "9" })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.get(r, { version: "../1" })).rejects.toBeInstanceOf(InvalidReferenceError);
  });

  it("a disabled version is SecretDisabledError, and readable again once enabled", async () => {
    const r = ref();
    await backend.put?.(r, "old");
    await backend.put?.(r, "new");
    await admin.disableSecretVersion({ name: `${secretPath(r)}/versions/1` });
    const error = await backend.get(r, { version: "1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretDisabledError);
    expect((error as Error).message).not.toContain("old");
    expect((await backend.get(r)).reveal()).toBe("new");
    await admin.enableSecretVersion({ name: `${secretPath(r)}/versions/1` });
    expect((await backend.get(r, { version: "1" })).reveal()).toBe("old");
  });

  it("latest with its only version disabled never yields a value (emulator: not found; Google: disabled)", async () => {
    const r = ref();
    await backend.put?.(r, "hidden");
    await admin.disableSecretVersion({ name: `${secretPath(r)}/versions/1` });
    const error = await backend.get(r).catch((e: unknown) => e);
    // Emulator v1.7.1 resolves `latest` to the newest ENABLED version and answers NOT_FOUND when
    // there is none; Google resolves it to the newest version and answers FAILED_PRECONDITION.
    expect([SecretNotFoundError, SecretDisabledError].some((type) => error instanceof type)).toBe(true);
  });

  it("a destroyed version is SecretDisabledError (documented choice: never falls through to a parent)", async () => {
    const r = ref();
    await backend.put?.(r, "gone");
    await backend.put?.(r, "kept");
    await admin.destroySecretVersion({ name: `${secretPath(r)}/versions/1` });
    const error = await backend.get(r, { version: "1" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretDisabledError);
    expect((error as Error).message).toContain("destroyed");
  });

  describe("the 255-character id limit", () => {
    // id = <prefix>_n<team>_d<app>_k<key>
    const room = 255 - encodeSecretId(prefix, { namespace: "team.app", key: "" }).length;

    it("stores, lists and deletes a key whose id is exactly 255 characters", async () => {
      const r = ref(`L${"x".repeat(room - 1)}`);
      expect(encodeSecretId(prefix, r)).toHaveLength(255);
      await backend.put?.(r, "at the limit");
      expect((await backend.get(r)).reveal()).toBe("at the limit");
      expect((await backend.list?.("team.app"))?.map((l) => l.key)).toContain(r.key);
      await backend.delete?.(r);
    });

    it("refuses one character more with InvalidReferenceError before any call, never truncating", async () => {
      const r = ref(`L${"x".repeat(room)}`);
      const calls: string[] = [];
      const spy = new Proxy({} as GcpSecretManagerClient, {
        get: (_, p) => {
          calls.push(String(p));
          return () => {};
        },
      });
      const offline = make({ client: spy });
      for (const attempt of [offline.get(r), offline.put?.(r, "x"), offline.delete?.(r)]) {
        const error = await attempt?.catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidReferenceError);
        expect((error as Error).message).toContain("256 characters");
      }
      expect(calls).toEqual([]);
      // On the real server too: nothing was created under a truncated id.
      await expect(backend.get(r)).rejects.toBeInstanceOf(InvalidReferenceError);
      const [secrets] = await admin.listSecrets(
        { parent: `projects/${project}`, pageSize: 1000 },
        { autoPaginate: false },
      );
      expect(secrets.filter((s) => s.name?.includes("x".repeat(100)))).toEqual([]);
    });
  });

  it("keeps keys that differ only in case apart (Key vs KEY)", async () => {
    const namespace = `case.n${n++}`;
    await backend.put?.({ namespace, key: "Key" }, "lower");
    await backend.put?.({ namespace, key: "KEY" }, "upper");
    expect((await backend.get({ namespace, key: "Key" })).reveal()).toBe("lower");
    expect((await backend.get({ namespace, key: "KEY" })).reveal()).toBe("upper");
    await expect(backend.get({ namespace, key: "key" })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect((await backend.list?.(namespace))?.map((l) => l.key)).toEqual(["KEY", "Key"]);
  });

  it("round-trips binary values byte for byte and marks them binary", async () => {
    const r = ref();
    const bytes = Uint8Array.from([0, 255, 254, 0x80, 0xc3, 0x28, 10, 0]);
    await backend.put?.(r, bytes);
    const value = await backend.get(r);
    expect(value.isBinary).toBe(true);
    expect([...value.revealBytes()]).toEqual([...bytes]);
    const [secret] = await admin.getSecret({ name: secretPath(r) });
    expect(secret.annotations?.["keyway-encoding"]).toBe("binary");
    // Bytes that happen to be UTF-8 stay bytes: the marker decides, not a guess.
    const utf8 = new TextEncoder().encode("looks like text");
    await backend.put?.(r, utf8);
    expect((await backend.get(r)).isBinary).toBe(true);
    // Text again: the marker flips back, and the older binary version still reads as bytes.
    await backend.put?.(r, "text now");
    const text = await backend.get(r);
    expect(text.isBinary).toBe(false);
    expect(text.reveal()).toBe("text now");
    expect([...(await backend.get(r, { version: "1" })).revealBytes()]).toEqual([...bytes]);
  });

  it("without the metadata read, invalid UTF-8 still comes back as the exact bytes", async () => {
    const r = ref();
    await backend.put?.(r, Uint8Array.from([0xff, 0x00, 0xfe]));
    const lean = make({ readSecretMetadata: false });
    const value = await lean.get(r);
    expect([...value.revealBytes()]).toEqual([0xff, 0x00, 0xfe]);
    expect(value.metadata.description).toBeUndefined();
    await lean.close?.();
  });

  it("writes the mapping the README documents: id, annotations and the namespace label", async () => {
    const r: SecretRef = { tenant: "acme", namespace: "company.team", key: "DB_PASSWORD" };
    await backend.put?.(r, "pw", { description: "the db", tags: { owner: "ops", "cost center": "42" } });
    const [secret] = await admin.getSecret({
      name: `projects/${project}/secrets/${prefix}_tacme_ncompany_dteam_kDB__PASSWORD`,
    });
    expect(secret.annotations).toMatchObject({
      "keyway-prefix": prefix,
      "keyway-tenant": "acme",
      "keyway-namespace": "company.team",
      "keyway-key": "DB_PASSWORD",
      "keyway-description": "the db",
      "keyway-tags": JSON.stringify({ "cost center": "42", owner: "ops" }),
      "keyway-encoding": "text",
    });
    expect(secret.labels?.["keyway-ns"]).toMatch(/^[0-9a-f]{32}$/);
    expect(secret.replication?.automatic).toBeDefined();
    await expect(backend.get({ namespace: r.namespace, key: r.key })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    await expect(backend.get({ ...r, tenant: "other" })).rejects.toBeInstanceOf(SecretNotFoundError);
    expect((await backend.list?.(r.namespace, { tenant: "acme" }))?.map((l) => l.key)).toEqual([
      "DB_PASSWORD",
    ]);
  });

  it("keeps the description and tags when a put gives none, replaces them when it does", async () => {
    const namespace = `meta.n${n++}`;
    const r = { namespace, key: "M" };
    await backend.put?.(r, "1", { description: "d1", tags: { a: "1" } });
    await backend.put?.(r, "2");
    expect((await backend.list?.(namespace))?.[0]?.metadata).toMatchObject({
      description: "d1",
      tags: { a: "1" },
    });
    expect((await backend.get(r)).metadata).toMatchObject({
      description: "d1",
      tags: { a: "1" },
      version: "2",
    });
    await backend.put?.(r, "3", { tags: { b: "2" } });
    expect((await backend.list?.(namespace))?.[0]?.metadata).toEqual({ description: "d1", tags: { b: "2" } });
    await backend.put?.(r, "4", { description: "" });
    expect((await backend.list?.(namespace))?.[0]?.metadata.description).toBeUndefined();
  });

  describe("list", () => {
    const namespace = "paging.big";
    const keys = Array.from({ length: 105 }, (_, i) => `P${String(i).padStart(3, "0")}`);
    let pages = 0;
    let returned = 0;
    let filters: Array<string | null | undefined> = [];
    let counted: SecretBackend;
    let unfiltered: SecretBackend;

    beforeAll(async () => {
      // An injected client that counts pages (and the filter sent), or drops the filter, as a
      // server that ignores it would.
      const raw = adminClient();
      const wrap = (dropFilter: boolean): GcpSecretManagerClient =>
        new Proxy(raw, {
          get(target, p, receiver) {
            if (p !== "listSecrets") return Reflect.get(target, p, receiver);
            return async (request: { filter?: string | null }, options: object) => {
              pages++;
              filters.push(request.filter);
              const page = await target.listSecrets(
                dropFilter ? { ...request, filter: "" } : request,
                options,
              );
              returned += page[0].length;
              return page;
            };
          },
        });
      counted = make({ client: wrap(false), listPageSize: 50 });
      unfiltered = make({ client: wrap(true), listPageSize: 50 });
      for (let i = 0; i < keys.length; i += 15) {
        await Promise.all(keys.slice(i, i + 15).map((key) => backend.put?.({ namespace, key }, `v-${key}`)));
      }
      // Neighbours that must not show up: a child namespace, the parent, a tenant, another prefix.
      await backend.put?.({ namespace: `${namespace}.child`, key: "CHILD" }, "x");
      await backend.put?.({ namespace: "paging", key: "PARENT" }, "x");
      await backend.put?.({ tenant: "t1", namespace, key: "TENANT" }, "x");
      await make({ prefix: `${prefix}x` }).put?.({ namespace, key: "OTHER_PREFIX" }, "x");
      // A foreign secret carrying our label: its id is not ours, so it is skipped.
      const label = (await admin.getSecret({ name: secretPath({ namespace, key: "P000" }) }))[0].labels?.[
        "keyway-ns"
      ];
      await admin.createSecret({
        parent: `projects/${project}`,
        secretId: "not-a-keyway-id",
        secret: { replication: { automatic: {} }, labels: { "keyway-ns": label ?? "" } },
      });
    }, 60_000);

    it("pages past 100 with pageSize 50 (3 pages), sorted, no duplicates, only this namespace", async () => {
      pages = 0;
      filters = [];
      const listed = await counted.list?.(namespace);
      expect(listed?.map((l) => l.key)).toEqual(keys);
      expect(pages).toBe(3);
      expect(new Set(filters).size).toBe(1);
      expect(filters[0]).toMatch(/^labels\.keyway-ns=[0-9a-f]{32}$/);
    });

    it("is still right when the server ignores the filter (ids are checked on our side)", async () => {
      returned = 0;
      const listed = await unfiltered.list?.(namespace);
      expect(listed?.map((l) => l.key)).toEqual(keys);
      // The server really sent the neighbours (and everything else in the project).
      expect(returned).toBeGreaterThan(keys.length + 4);
    });

    it("an empty namespace lists nothing; a bad namespace is InvalidReferenceError", async () => {
      expect(await backend.list?.("nobody.here")).toEqual([]);
      await expect(backend.list?.("a..b")).rejects.toBeInstanceOf(InvalidReferenceError);
      await expect(backend.list?.(namespace, { tenant: "Bad" })).rejects.toBeInstanceOf(
        InvalidReferenceError,
      );
    });
  });

  it("an aborted signal settles at once as BackendUnavailableError, never as not-found", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      backend.get(ref("P000", "paging.big"), { signal: controller.signal }),
    ).rejects.toBeInstanceOf(BackendUnavailableError);
    const late = new AbortController();
    const pending = backend.list?.("paging.big", { signal: late.signal });
    late.abort();
    await expect(pending).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("an endpoint with nothing listening is BackendUnavailableError (UNAVAILABLE), not a miss", async () => {
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    const down = make({ emulatorEndpoint: `127.0.0.1:${port}`, timeoutMs: 3000 });
    await expect(down.get(ref())).rejects.toBeInstanceOf(BackendUnavailableError);
    await down.close?.();
  });

  it("close() closes the client it created; the next call opens a new one", async () => {
    const own = make();
    const r = ref();
    await own.put?.(r, "before close");
    await own.close?.();
    expect((await own.get(r)).reveal()).toBe("before close");
    await own.close?.();
  });
});
