// The writes room: put, delete, restore and purge take WriteOptions (compare-and-set `ifVersion`,
// a signal) and pass them to the backend; restore and purge get the checks of put and delete, and
// a backend without the capability is refused before it is reached.
import { describe, expect, it } from "vitest";
import type { BackendCapabilities, PutMetadata, WriteOptions } from "../src/backend-kit/index.js";
import {
  ConfigurationError,
  ConflictError,
  createRouter,
  ReadOnlyError,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "../src/index.js";

type Call = [operation: string, ref: SecretRef, options: WriteOptions | undefined];

/**
 * A versioned store with soft delete and compare-and-set, recording every call (a stand-in until
 * the memory backend has both capabilities).
 */
function versionedBackend(capabilities: Partial<BackendCapabilities> = {}) {
  const live = new Map<string, { value: string; version: number }>();
  const deleted = new Map<string, { value: string; version: number }>();
  const calls: Call[] = [];
  const id = (ref: SecretRef) => `${ref.tenant ?? ""}|${ref.namespace}/${ref.key}`;
  const check = (ref: SecretRef, options: WriteOptions | undefined) => {
    if (options?.ifVersion === undefined) return;
    const current = live.get(id(ref));
    if ((current ? String(current.version) : "") !== options.ifVersion)
      throw new ConflictError(`Secret '${ref.key}' changed since version ${options.ifVersion}.`);
  };
  const backend: SecretBackend = {
    name: "versioned",
    capabilities: {
      write: true,
      list: false,
      batch: false,
      versions: true,
      caseSensitiveKeys: true,
      maxValueBytes: 1 << 20,
      compareAndSet: true,
      softDelete: true,
      ...capabilities,
    },
    async get(ref) {
      const entry = live.get(id(ref));
      if (!entry) throw new SecretNotFoundError(ref.key);
      return SecretValue.fromText(entry.value, { version: String(entry.version) });
    },
    async put(ref, value, _metadata?: PutMetadata, options?: WriteOptions) {
      calls.push(["put", ref, options]);
      check(ref, options);
      const version = (live.get(id(ref))?.version ?? 0) + 1;
      live.set(id(ref), {
        value: typeof value === "string" ? value : Buffer.from(value).toString(),
        version,
      });
    },
    async delete(ref, options) {
      calls.push(["delete", ref, options]);
      check(ref, options);
      const entry = live.get(id(ref));
      if (!entry) throw new SecretNotFoundError(ref.key);
      live.delete(id(ref));
      deleted.set(id(ref), entry);
    },
    async restore(ref, options) {
      calls.push(["restore", ref, options]);
      const entry = deleted.get(id(ref));
      if (!entry) throw new SecretNotFoundError(ref.key);
      deleted.delete(id(ref));
      live.set(id(ref), entry);
    },
    async purge(ref, options) {
      calls.push(["purge", ref, options]);
      if (!live.delete(id(ref)) && !deleted.delete(id(ref))) throw new SecretNotFoundError(ref.key);
    },
  };
  return { backend, calls };
}

const KEY = { namespace: "team.prod-eu_1", key: "DB_PASSWORD" };

function setup(capabilities?: Partial<BackendCapabilities>) {
  const { backend, calls } = versionedBackend(capabilities);
  const router = createRouter({
    backends: { v: backend },
    rules: [
      { match: "", backend: "v" },
      { match: "frozen", backend: "v", readOnly: true },
    ],
  });
  return { router, calls };
}

describe("router writes: WriteOptions pass through", () => {
  it("put and delete hand the backend the caller's options (ifVersion, signal), unchanged", async () => {
    const { router, calls } = setup();
    const signal = new AbortController().signal;
    await router.put(KEY, "pässwörd'\"\n{{ x }} 🔑", undefined, { ifVersion: "", signal });
    await router.put(KEY, "second", { description: "d" }, { ifVersion: "1" });
    await router.delete(KEY, { ifVersion: "2" });
    expect(calls.map(([op, , options]) => [op, options])).toEqual([
      ["put", { ifVersion: "", signal }],
      ["put", { ifVersion: "1" }],
      ["delete", { ifVersion: "2" }],
    ]);
  });

  it("a compare-and-set that lost is a ConflictError, writes nothing, and the cache shows the winner", async () => {
    const { router } = setup();
    await router.put(KEY, "first");
    expect((await router.resolve(KEY)).reveal()).toBe("first"); // now cached
    await router.put(KEY, "winner", undefined, { ifVersion: "1" });
    await expect(router.put(KEY, "loser", undefined, { ifVersion: "1" })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect((await router.resolve(KEY)).reveal()).toBe("winner");
  });

  it("ifVersion on a backend without compare-and-set is refused before the backend is reached", async () => {
    const { router, calls } = setup({ compareAndSet: false });
    await expect(router.put(KEY, "v", undefined, { ifVersion: "" })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await expect(router.delete(KEY, { ifVersion: "1" })).rejects.toBeInstanceOf(ConfigurationError);
    expect(calls).toEqual([]);
    await router.put(KEY, "v"); // without ifVersion, as before
    expect(calls).toHaveLength(1);
  });
});

describe("router writes: restore and purge", () => {
  it("restore brings back a soft-deleted secret; purge removes it for good; both drop the cache", async () => {
    const { router, calls } = setup();
    await router.put(KEY, "kept");
    await router.delete(KEY);
    await expect(router.resolve(KEY)).rejects.toBeInstanceOf(SecretNotFoundError); // negative-cached
    await router.restore(KEY, { ifVersion: undefined });
    expect((await router.resolve(KEY)).reveal()).toBe("kept");
    await router.purge(KEY);
    await expect(router.resolve(KEY)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(router.restore(KEY)).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(calls.map(([op, ref]) => [op, ref.namespace, ref.key])).toEqual([
      ["put", KEY.namespace, KEY.key],
      ["delete", KEY.namespace, KEY.key],
      ["restore", KEY.namespace, KEY.key],
      ["purge", KEY.namespace, KEY.key],
      ["restore", KEY.namespace, KEY.key],
    ]);
  });

  it("a read-only rule refuses them as it refuses put and delete, without reaching the backend", async () => {
    const { router, calls } = setup();
    for (const ref of [
      { namespace: "frozen", key: "K" },
      { namespace: "frozen.below", key: "K" },
    ]) {
      await expect(router.restore(ref)).rejects.toBeInstanceOf(ReadOnlyError);
      await expect(router.purge(ref)).rejects.toBeInstanceOf(ReadOnlyError);
    }
    expect(calls).toEqual([]);
  });

  it("a backend without writes is read-only; one without soft delete is a configuration error", async () => {
    const readOnly = setup({ write: false });
    await expect(readOnly.router.restore(KEY)).rejects.toBeInstanceOf(ReadOnlyError);
    await expect(readOnly.router.purge(KEY)).rejects.toBeInstanceOf(ReadOnlyError);
    const hard = setup({ softDelete: false });
    await expect(hard.router.restore(KEY)).rejects.toThrow(/no soft delete/);
    await expect(hard.router.purge(KEY)).rejects.toBeInstanceOf(ConfigurationError);
    expect([...readOnly.calls, ...hard.calls]).toEqual([]);
  });

  it("a namespace no rule serves, or a bad reference, fails before any backend call", async () => {
    const { backend, calls } = versionedBackend();
    const router = createRouter({ backends: { v: backend }, rules: [{ match: "only", backend: "v" }] });
    await expect(router.restore({ namespace: "other", key: "K" })).rejects.toBeInstanceOf(ConfigurationError);
    await expect(router.purge({ namespace: "only/..", key: "K" })).rejects.toThrow(/Invalid namespace/);
    await expect(router.purge({ namespace: "only", key: "a\nb" })).rejects.toThrow(/Invalid secret key/);
    expect(calls).toEqual([]);
  });
});
