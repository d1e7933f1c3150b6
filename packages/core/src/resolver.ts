/** The `SecretResolver` interface: what an executor calls, whatever serves the secrets. */
import type { PrepareOptions } from "./backend.js";
import type { SecretsError, SecretsErrorCode } from "./errors.js";
import type { Redactor } from "./redact/types.js";
import type { SecretRef } from "./ref.js";
import type { SecretValue } from "./value.js";

export interface ResolveOptions {
  /** A top-level key of a JSON value (Kestra `subkey`). */
  subkey?: string | undefined;
  /** A backend version id or stage. */
  version?: string | undefined;
  /**
   * The namespace of the caller, when it reads another namespace (Kestra's
   * `secret('K', namespace='x')`). The router checks the caller may read there.
   */
  caller?: string | undefined;
  /**
   * Climb the namespace tree: a key not found in the ref's namespace is looked up in each
   * ancestor, each in its own rule's backend. With `false` the router asks only the ref's own
   * namespace (its rule's backend, then that rule's replicas): not found there is not found, and
   * the backends of ancestor namespaces are never asked, so their failures cannot reach the caller.
   * A single-backend resolver has no tree and ignores it.
   * @default true
   */
  inherit?: boolean | undefined;
  /** The caller's execution id, carried into audit events and telemetry. */
  executionId?: string | undefined;
  /** Aborts this caller's wait (other callers sharing the request are unaffected). */
  signal?: AbortSignal | undefined;
}

/** Counters since the resolver was created. */
export interface ResolverStats {
  /** Resolves answered from a fresh cache entry. */
  hits: number;
  /** Resolves answered from a cached not-found. */
  negativeHits: number;
  /** Resolves that waited on the backend. */
  misses: number;
  /** Values served past their TTL because the backend was unavailable. */
  staleServed: number;
  /** Background refreshes of hot keys started before expiry. */
  refreshes: number;
  /** Requests sent to backends (a batch counts once). */
  backendCalls: number;
  /** Failed resolves by error code. */
  errors: Partial<Record<SecretsErrorCode, number>>;
  /** Entries in the cache now. */
  size: number;
  /** Audit events the sink failed to take (counted, never silently dropped). */
  auditFailures?: number;
}

/** Resolves secret references; the single-backend resolver and the router both implement it. */
export interface SecretResolver {
  resolve(ref: SecretRef, options?: ResolveOptions): Promise<SecretValue>;
  /** Resolves all refs at once; each ref (same object) maps to its value or typed error. */
  resolveMany(
    refs: readonly SecretRef[],
    options?: { signal?: AbortSignal | undefined },
  ): Promise<Map<SecretRef, SecretValue | SecretsError>>;
  /** Drops cached entries for `ref` (every version), so the next resolve reads the backend. */
  invalidate(ref: SecretRef): void;
  stats(): ResolverStats;
  /** Every value this resolver returns is registered here. */
  readonly redactor: Redactor;
  /**
   * Readies the backends now (SDK loaded, client built, logged in) instead of on the first
   * resolve, which would otherwise spend part of its deadline on it: call it at startup. A
   * router readies all its backends at once and, when any fails, rejects with the first one's
   * error in `backends` order once all have settled. `timeoutMs` does not bound it (loading an
   * SDK may take longer than a read may); `signal` does, whatever the backend does with it.
   * @throws a {@link SecretsError} naming the backend that could not be made ready
   */
  prepare(options?: PrepareOptions): Promise<void>;
  close(): Promise<void>;
}
