/**
 * What the backend asks of a database. Two engines implement it over one schema (schema.ts):
 * PostgreSQL through `pg` (engine-postgres.ts) and an embedded SQLite file through
 * `better-sqlite3` (engine-sqlite.ts). Engines store and fetch sealed rows; encryption, checks
 * and errors about secrets are the backend's (backend.ts).
 */

import type { SecretsError } from "@keyway/core/backend";

/** A secret's name in the tables: the tenant is `""` when absent (a valid tenant is never empty). */
export interface StoredName {
  readonly tenant: string;
  readonly namespace: string;
  readonly key: string;
}

/** A secret's row, without its versions. */
export interface SecretRow {
  readonly currentVersion: number;
  readonly description: string | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
  readonly updatedAt: number;
}

/** One sealed version. */
export interface VersionRow {
  readonly version: number;
  readonly kekId: string;
  readonly wrappedKey: Buffer;
  readonly ciphertext: Buffer;
  readonly binary: boolean;
  readonly createdAt: number;
}

/** A version to write: sealed by the backend once the engine has given it its number. */
export interface SealedWrite {
  readonly kekId: string;
  readonly wrappedKey: Buffer;
  readonly ciphertext: Buffer;
  readonly binary: boolean;
}

export interface WriteRequest {
  readonly name: StoredName;
  /** Compare-and-set: the live version must be this one (`""`: no live secret). */
  readonly ifVersion?: string | undefined;
  readonly description?: string | undefined;
  readonly tags?: Readonly<Record<string, string>> | undefined;
  /** How many versions to keep; older ones are removed in the same transaction. */
  readonly keep: number;
  /** Seals the value for the version number the engine allocated (inside its transaction). */
  seal(version: number): SealedWrite;
}

/** What a delete, restore or purge found. */
export type RemoveOutcome = "done" | "missing" | "conflict";
export type RemoveOperation = "delete" | "restore" | "purge";

/** A version row to re-wrap under a new key-encryption key. */
export interface WrappedRow extends StoredName {
  readonly version: number;
  readonly kekId: string;
  readonly wrappedKey: Buffer;
}

/** A change as an engine reports it (names only, never a value). */
export interface EngineChange extends StoredName {
  readonly version: number | undefined;
  readonly deleted: boolean;
}

export interface Engine {
  readonly kind: "postgres" | "sqlite";
  /** The store's meta rows (`store_id`, `key_id`, `schema`); ConfigurationError when not initialized. */
  meta(): Promise<Record<string, string>>;
  /** The live secret and its current version, or a given version; undefined when none is live. */
  read(name: StoredName, version?: number): Promise<{ secret: SecretRow; row: VersionRow } | undefined>;
  /** The live secret's current version, or undefined. */
  current(name: StoredName): Promise<number | undefined>;
  /** Live secrets of a namespace (keys starting with `prefix`), sorted by key. */
  list(tenant: string, namespace: string, prefix: string): Promise<Array<{ key: string; secret: SecretRow }>>;
  /** Writes a new version; throws ConflictError when `ifVersion` does not match. */
  write(request: WriteRequest): Promise<number>;
  remove(name: StoredName, operation: RemoveOperation, ifVersion?: string): Promise<RemoveOutcome>;
  /** Up to `limit` version rows whose data key is not wrapped by `kekId`. */
  unwrapped(kekId: string, limit: number): Promise<WrappedRow[]>;
  /** Replaces wrapped data keys, each only if still wrapped by the key it was read with. */
  rewrapped(
    rows: ReadonlyArray<WrappedRow & { readonly newKekId: string; readonly newWrappedKey: Buffer }>,
  ): Promise<void>;
  setMeta(name: string, value: string): Promise<void>;
  /** Calls `change` for each change committed from now on, in order; `lost` when the channel breaks. */
  subscribe(
    change: (c: EngineChange) => void,
    lost: (error: SecretsError) => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** Live version numbers as strings (what probeVersion and metadata.version show). */
export function matchesIfVersion(ifVersion: string, current: number | undefined): boolean {
  return ifVersion === "" ? current === undefined : current !== undefined && ifVersion === String(current);
}
