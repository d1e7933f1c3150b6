/**
 * The adapter contract every secret manager implements. The required surface is `get`; the rest
 * is declared in `capabilities` and feature-detected.
 */
import type { SecretsError } from "./errors.js";
import type { SecretRef } from "./ref.js";
import type { SecretMetadata, SecretValue } from "./value.js";

/** What a backend can do. Callers and the contract suite switch on these. */
export interface BackendCapabilities {
  /** `put` and `delete` work. */
  readonly write: boolean;
  /** `list` works. */
  readonly list: boolean;
  /** `getMany` is native (one request for many refs), not a loop. */
  readonly batch: boolean;
  /** `get` honours `version`. */
  readonly versions: boolean;
  /** `KEY` and `key` are different secrets. */
  readonly caseSensitiveKeys: boolean;
  /** Keys are global: namespaces and tenants are ignored (the env backend). @default false */
  readonly global?: boolean;
  /** The largest value, in UTF-8 bytes, the backend stores. */
  readonly maxValueBytes: number;
  /** `put` honours `ifVersion` (compare-and-set). @default false */
  readonly compareAndSet?: boolean;
  /** `delete` is soft: `restore` brings a secret back, `purge` removes it for good. @default false */
  readonly softDelete?: boolean;
}

export interface GetOptions {
  /** Aborts the request; the resolver passes its deadline here. */
  signal?: AbortSignal | undefined;
  /** A backend version id or stage; only with `capabilities.versions`. */
  version?: string | undefined;
}

export interface ListOptions {
  tenant?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** One key a backend holds in a namespace: the name and metadata, never the value. */
export interface SecretListing {
  readonly key: string;
  readonly metadata: SecretMetadata;
}

/** Metadata written with a value. */
export interface PutMetadata {
  description?: string | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
}

export interface PrepareOptions {
  /** Stops waiting (a login request, say) when it aborts. */
  signal?: AbortSignal | undefined;
}

export interface ProbeOptions {
  /** Aborts the request; the watcher passes its deadline here. */
  signal?: AbortSignal | undefined;
}

export interface WriteOptions {
  signal?: AbortSignal | undefined;
  /**
   * Compare-and-set: write only when the secret's current version (as `probeVersion` returns it)
   * is this one; `""` means "only when it does not exist". A mismatch throws ConflictError and
   * writes nothing. Only with `capabilities.compareAndSet`.
   */
  ifVersion?: string | undefined;
}

/** A change a backend pushes: which secret changed, never its value. */
export interface SecretChange {
  readonly namespace: string;
  readonly key: string;
  readonly tenant?: string | undefined;
  /** The version after the change (as `probeVersion` returns it); undefined when deleted. */
  readonly version?: string | undefined;
  readonly deleted?: boolean | undefined;
}

/** Where a backend delivers pushed changes. */
export interface ChangeListener {
  /** A secret changed. Called in the order the backend committed the changes. */
  change(change: SecretChange): void;
  /**
   * The push channel broke (connection lost): changes may have been missed from now on. The
   * watcher falls back to polling and may subscribe again.
   */
  lost(error: SecretsError): void;
}

/** A live subscription; `close` stops the deliveries and releases the channel. */
export interface Subscription {
  close(): Promise<void>;
}

/** The result of a batch read: for each ref passed in (same object), its value or typed error. */
export type GetManyResult = Map<SecretRef, SecretValue | SecretsError>;

/** A secret manager behind Keyway's one interface. */
export interface SecretBackend {
  /** A short name used in errors, stats and logs (e.g. `env`, `aws:prod`). */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /**
   * Reads one secret.
   * @throws SecretNotFoundError when it does not exist; other {@link SecretsError}s otherwise.
   */
  get(ref: SecretRef, options?: GetOptions): Promise<SecretValue>;
  /** Reads many secrets at once; per-ref failures are values in the map, not a rejection. */
  getMany?(refs: readonly SecretRef[], options?: GetOptions): Promise<GetManyResult>;
  /** The keys stored directly in a namespace, sorted. */
  list?(namespace: string, options?: ListOptions): Promise<SecretListing[]>;
  /** Creates or replaces a secret. */
  put?(
    ref: SecretRef,
    value: string | Uint8Array,
    metadata?: PutMetadata,
    options?: WriteOptions,
  ): Promise<void>;
  /** Deletes a secret; deleting a missing one throws SecretNotFoundError. */
  delete?(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /** Brings back a soft-deleted secret (`capabilities.softDelete`); SecretNotFoundError when there is none. */
  restore?(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /** Removes a secret and every version for good, deleted or not (`capabilities.softDelete`). */
  purge?(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /**
   * Pushes change events (PostgreSQL LISTEN/NOTIFY, say) so `router.watch` hears a change without
   * polling. Resolves once listening: a change committed after that is delivered. Backends
   * without it are polled (`probeVersion`, else `get`).
   */
  subscribe?(listener: ChangeListener, options?: PrepareOptions): Promise<Subscription>;
  /**
   * The version the secret has now: an opaque string that changes whenever the value `get(ref)`
   * returns changes (AWS VersionId, Vault KV v2 metadata version, GCP version number, Azure
   * version id). Read from metadata where the API has it, so watching a secret does not fetch
   * its value. `router.watch` polls it; a backend without it is watched by reading the value
   * (see watch.ts). Opaque: not necessarily `metadata.version` (Vault KV v2 and GCP add the
   * version's creation time, since their numbering starts over after a delete), and never the
   * value or anything derived from it.
   * @throws SecretNotFoundError when the secret does not exist; other {@link SecretsError}s otherwise.
   */
  probeVersion?(ref: SecretRef, options?: ProbeOptions): Promise<string>;
  /**
   * Does now what the first call would do anyway: loads the vendor SDK, builds the client, logs
   * in. A process calls it at startup so its first reads do not spend their deadline on it, and
   * bad credentials or a broken install show before the first workflow runs. Idempotent; reads
   * work without it.
   * @throws a {@link SecretsError} when the backend cannot be made ready
   */
  prepare?(options?: PrepareOptions): Promise<void>;
  /** Releases connections and timers. */
  close?(): Promise<void>;
}
