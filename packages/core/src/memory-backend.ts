/**
 * A writable in-process backend for tests, demos and local development. Nothing persists. It has
 * every optional capability, so tests and the contract suite can exercise them: versions,
 * compare-and-set (`ifVersion`), soft delete (`restore`, `purge`) and pushed change events
 * (`subscribe`, delivered in-process in commit order).
 */
import type {
  BackendCapabilities,
  ChangeListener,
  PutMetadata,
  SecretBackend,
  SecretChange,
  SecretListing,
  Subscription,
  WriteOptions,
} from "./backend.js";
import { ConflictError, InvalidSecretValueError, SecretNotFoundError } from "./errors.js";
import { assertNamespace, assertTenant, refId, type SecretRef, validateRef } from "./ref.js";
import { type SecretMetadata, SecretValue } from "./value.js";

export interface MemoryBackendOptions {
  /** The backend's name in errors and stats. @default "memory" */
  name?: string | undefined;
  /** Largest value in bytes. @default 65536 */
  maxValueBytes?: number | undefined;
  /** Secrets to start with, as `{ "namespace/KEY": "value" }` (root: `"/KEY"`). */
  initial?: Readonly<Record<string, string>> | undefined;
}

interface Stored {
  readonly ref: SecretRef;
  readonly versions: Array<{ value: string | Uint8Array; updatedAt: Date }>;
  metadata: PutMetadata;
  /** Versions this ref had before its last delete: numbering goes on, so a re-created secret never repeats a version. */
  readonly base: number;
}

/** The version `probeVersion` and `metadata.version` report: never reused, even after a delete. */
const versionOf = (stored: Stored): string => String(stored.base + stored.versions.length);

/**
 * Creates an in-memory backend; each one is independent.
 * @example
 * const backend = createMemoryBackend({ initial: { "company.team/API_TOKEN": "t0ken" } });
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): SecretBackend {
  const name = options.name ?? "memory";
  const capabilities: BackendCapabilities = {
    write: true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: options.maxValueBytes ?? 65536,
    compareAndSet: true,
    softDelete: true,
  };
  const store = new Map<string, Stored>();
  /** Soft-deleted secrets, by id: `restore` brings one back, `purge` removes it. */
  const trash = new Map<string, Stored>();
  /** The last version number of each deleted ref (see `Stored.base`). */
  const deleted = new Map<string, number>();
  const listeners = new Set<ChangeListener>();
  const current = (ref: SecretRef): Stored => {
    const stored = store.get(refId(ref));
    if (!stored) throw new SecretNotFoundError(ref.key, { backend: name });
    return stored;
  };
  /** Compare-and-set: the write goes ahead only at the version the caller read (`""`: none). */
  const checkVersion = (ref: SecretRef, writeOptions: WriteOptions | undefined): void => {
    const expected = writeOptions?.ifVersion;
    if (expected === undefined) return;
    const stored = store.get(refId(ref));
    const actual = stored ? versionOf(stored) : "";
    if (actual === expected) return;
    const now = actual === "" ? "does not exist" : "is at another version";
    throw new ConflictError(`Secret '${ref.key}' ${now} than the write expected; nothing was written.`, {
      backend: name,
    });
  };
  /** Tells every subscriber, after the write, in commit order; a listener's failure is its own. */
  const notify = (ref: SecretRef, version: string | undefined): void => {
    if (listeners.size === 0) return;
    const change: SecretChange = Object.freeze({
      namespace: ref.namespace,
      key: ref.key,
      tenant: ref.tenant,
      version,
      deleted: version === undefined,
    });
    for (const listener of [...listeners])
      queueMicrotask(() => {
        if (!listeners.has(listener)) return;
        try {
          listener.change(change);
        } catch {
          // the subscriber's own failure: the write stands, the others still hear
        }
      });
  };
  const remove = (ref: SecretRef, stored: Stored): void => {
    deleted.set(refId(ref), Math.max(deleted.get(refId(ref)) ?? 0, stored.base + stored.versions.length));
  };

  const backend: SecretBackend = {
    name,
    capabilities,
    async get(input, getOptions = {}) {
      const ref = validateRef(input);
      const stored = store.get(refId(ref));
      const base = stored?.base ?? 0;
      const index =
        getOptions.version === undefined
          ? (stored?.versions.length ?? 0) - 1
          : Number(getOptions.version) - 1 - base;
      const version = stored?.versions[index];
      if (!stored || !version) throw new SecretNotFoundError(ref.key, { backend: name });
      const metadata: SecretMetadata = {
        ...stored.metadata,
        version: String(base + index + 1),
        updatedAt: version.updatedAt,
      };
      return typeof version.value === "string"
        ? SecretValue.fromText(version.value, metadata)
        : SecretValue.fromBytes(version.value, metadata);
    },
    async list(namespace, listOptions = {}) {
      // Like every backend: a namespace or tenant outside the grammar is refused, not "empty".
      assertNamespace(namespace);
      assertTenant(listOptions.tenant);
      const found: SecretListing[] = [];
      for (const stored of store.values()) {
        if (stored.ref.namespace === namespace && stored.ref.tenant === listOptions.tenant) {
          found.push({ key: stored.ref.key, metadata: { ...stored.metadata, version: versionOf(stored) } });
        }
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async put(input, value, metadata = {}, writeOptions) {
      const ref = validateRef(input);
      const bytes = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.byteLength;
      if (bytes > capabilities.maxValueBytes) {
        throw new InvalidSecretValueError(
          `Secret '${ref.key}' is ${bytes} bytes; backend '${name}' stores at most ${capabilities.maxValueBytes}.`,
          { backend: name },
        );
      }
      checkVersion(ref, writeOptions);
      const copy = typeof value === "string" ? value : Uint8Array.from(value);
      let stored = store.get(refId(ref));
      if (stored) {
        stored.versions.push({ value: copy, updatedAt: new Date() });
        stored.metadata = { ...stored.metadata, ...metadata };
      } else {
        stored = {
          ref,
          versions: [{ value: copy, updatedAt: new Date() }],
          metadata: { ...metadata },
          base: deleted.get(refId(ref)) ?? 0,
        };
        store.set(refId(ref), stored);
      }
      notify(ref, versionOf(stored));
    },
    /** Soft: the secret goes to the trash, where `restore` finds it (replacing an older deleted one). */
    async delete(input, writeOptions) {
      const ref = validateRef(input);
      const stored = current(ref);
      checkVersion(ref, writeOptions);
      remove(ref, stored);
      store.delete(refId(ref));
      trash.set(refId(ref), stored);
      notify(ref, undefined);
    },
    async restore(input, writeOptions) {
      const ref = validateRef(input);
      const stored = trash.get(refId(ref));
      if (!stored) throw new SecretNotFoundError(ref.key, { backend: name });
      if (store.has(refId(ref)))
        throw new ConflictError(
          `Secret '${ref.key}' exists again; delete it before restoring the deleted one.`,
          {
            backend: name,
          },
        );
      checkVersion(ref, writeOptions);
      // Back with its versions and numbers: a put after it goes on from the highest number used.
      trash.delete(refId(ref));
      store.set(refId(ref), stored);
      notify(ref, versionOf(stored));
    },
    async purge(input, writeOptions) {
      const ref = validateRef(input);
      const live = store.get(refId(ref));
      if (!live && !trash.has(refId(ref))) throw new SecretNotFoundError(ref.key, { backend: name });
      checkVersion(ref, writeOptions);
      if (live) remove(ref, live);
      store.delete(refId(ref));
      trash.delete(refId(ref));
      if (live) notify(ref, undefined);
    },
    async probeVersion(input) {
      return versionOf(current(validateRef(input)));
    },
    async subscribe(listener): Promise<Subscription> {
      listeners.add(listener);
      return {
        async close() {
          listeners.delete(listener);
        },
      };
    },
    async close() {
      store.clear();
      trash.clear();
      deleted.clear();
      listeners.clear();
    },
  };

  for (const [path, value] of Object.entries(options.initial ?? {})) {
    const slash = path.lastIndexOf("/");
    const ref = validateRef({ namespace: path.slice(0, Math.max(0, slash)), key: path.slice(slash + 1) });
    store.set(refId(ref), { ref, versions: [{ value, updatedAt: new Date() }], metadata: {}, base: 0 });
  }
  return backend;
}
