/**
 * The writes room: put, delete, restore and purge go to the rule serving the ref's namespace (the
 * access room refuses a missing rule, a read-only rule or a backend without writes), with the
 * caller's `WriteOptions` (compare-and-set `ifVersion`, signal) passed through; the ref's cached
 * entries are dropped whatever the outcome.
 */
import type { PutMetadata, SecretBackend, WriteOptions } from "../backend.js";
import { ConfigurationError } from "../errors.js";
import { assertNamespace, assertTenant, type SecretRef, validateRef } from "../ref.js";
import type { SecretResolver } from "../resolver.js";
import { writeTarget } from "./access.js";
import type { RuleBook } from "./rules.js";

export class Writes {
  constructor(
    private readonly rules: RuleBook,
    private readonly backends: Readonly<Record<string, SecretBackend>>,
    private readonly resolvers: ReadonlyMap<string, SecretResolver>,
  ) {}

  put(input: SecretRef, value: string | Uint8Array, metadata?: PutMetadata, options?: WriteOptions) {
    return this.#write(input, options, (backend, ref) => backend.put?.(ref, value, metadata, options));
  }

  delete(input: SecretRef, options?: WriteOptions) {
    return this.#write(input, options, (backend, ref) => backend.delete?.(ref, options));
  }

  restore(input: SecretRef, options?: WriteOptions) {
    return this.#write(input, options, (backend, ref) =>
      softDeleting(backend, "restore").restore?.(ref, options),
    );
  }

  purge(input: SecretRef, options?: WriteOptions) {
    return this.#write(input, options, (backend, ref) =>
      softDeleting(backend, "purge").purge?.(ref, options),
    );
  }

  /** Throws what a write in `namespace` would throw before reaching its backend. */
  assertWritable(namespace: string, tenant?: string): void {
    assertNamespace(namespace);
    assertTenant(tenant);
    writeTarget(this.rules, this.backends, { key: "", namespace, tenant });
  }

  async #write(
    input: SecretRef,
    options: WriteOptions | undefined,
    write: (backend: SecretBackend, ref: SecretRef) => Promise<void> | undefined,
  ): Promise<void> {
    const ref = validateRef(input);
    const { rule, backend } = writeTarget(this.rules, this.backends, ref);
    if (options?.ifVersion !== undefined && !backend.capabilities.compareAndSet) {
      throw new ConfigurationError(
        `Backend '${rule.backend}' cannot compare-and-set: a write with ifVersion needs a backend with compareAndSet.`,
      );
    }
    try {
      await write(backend, ref);
    } finally {
      this.resolvers.get(rule.backend)?.invalidate(ref);
    }
  }
}

/** The backend, when it soft-deletes (and so can restore and purge). */
function softDeleting(backend: SecretBackend, operation: "restore" | "purge"): SecretBackend {
  if (!backend.capabilities.softDelete || !backend[operation]) {
    throw new ConfigurationError(
      `Backend '${backend.name}' has no soft delete, so it cannot ${operation} a secret.`,
    );
  }
  return backend;
}
