/** A writable in-process backend for tests, demos and local development. Nothing persists. */
import type { BackendCapabilities, PutMetadata, SecretBackend, SecretListing } from "./backend.js";
import { InvalidSecretValueError, SecretNotFoundError } from "./errors.js";
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
  };
  const store = new Map<string, Stored>();
  /** The last version number of each deleted ref (see `Stored.base`). */
  const deleted = new Map<string, number>();
  const current = (ref: SecretRef): Stored => {
    const stored = store.get(refId(ref));
    if (!stored) throw new SecretNotFoundError(ref.key, { backend: name });
    return stored;
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
          found.push({
            key: stored.ref.key,
            metadata: { ...stored.metadata, version: String(stored.base + stored.versions.length) },
          });
        }
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    async put(input, value, metadata = {}) {
      const ref = validateRef(input);
      const bytes = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.byteLength;
      if (bytes > capabilities.maxValueBytes) {
        throw new InvalidSecretValueError(
          `Secret '${ref.key}' is ${bytes} bytes; backend '${name}' stores at most ${capabilities.maxValueBytes}.`,
          { backend: name },
        );
      }
      const copy = typeof value === "string" ? value : Uint8Array.from(value);
      const stored = store.get(refId(ref));
      if (stored) {
        stored.versions.push({ value: copy, updatedAt: new Date() });
        stored.metadata = { ...stored.metadata, ...metadata };
      } else {
        store.set(refId(ref), {
          ref,
          versions: [{ value: copy, updatedAt: new Date() }],
          metadata: { ...metadata },
          base: deleted.get(refId(ref)) ?? 0,
        });
      }
    },
    async delete(input) {
      const ref = validateRef(input);
      const stored = current(ref);
      deleted.set(refId(ref), stored.base + stored.versions.length);
      store.delete(refId(ref));
    },
    /** The number `get` reports as `metadata.version`; never reused, even after a delete. */
    async probeVersion(input) {
      const stored = current(validateRef(input));
      return String(stored.base + stored.versions.length);
    },
    async close() {
      store.clear();
      deleted.clear();
    },
  };

  for (const [path, value] of Object.entries(options.initial ?? {})) {
    const slash = path.lastIndexOf("/");
    const ref = validateRef({ namespace: path.slice(0, Math.max(0, slash)), key: path.slice(slash + 1) });
    store.set(refId(ref), { ref, versions: [{ value, updatedAt: new Date() }], metadata: {}, base: 0 });
  }
  return backend;
}
