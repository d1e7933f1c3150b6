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

  const backend: SecretBackend = {
    name,
    capabilities,
    async get(input, getOptions = {}) {
      const ref = validateRef(input);
      const stored = store.get(refId(ref));
      const index =
        getOptions.version === undefined
          ? (stored?.versions.length ?? 0) - 1
          : Number(getOptions.version) - 1;
      const version = stored?.versions[index];
      if (!stored || !version) throw new SecretNotFoundError(ref.key, { backend: name });
      const metadata: SecretMetadata = {
        ...stored.metadata,
        version: String(index + 1),
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
            metadata: { ...stored.metadata, version: String(stored.versions.length) },
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
        });
      }
    },
    async delete(input) {
      const ref = validateRef(input);
      if (!store.delete(refId(ref))) throw new SecretNotFoundError(ref.key, { backend: name });
    },
    async close() {
      store.clear();
    },
  };

  for (const [path, value] of Object.entries(options.initial ?? {})) {
    const slash = path.lastIndexOf("/");
    const ref = validateRef({ namespace: path.slice(0, Math.max(0, slash)), key: path.slice(slash + 1) });
    store.set(refId(ref), { ref, versions: [{ value, updatedAt: new Date() }], metadata: {} });
  }
  return backend;
}
