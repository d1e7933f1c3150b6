/**
 * @keyway/backend-store: Keyway's own encrypted secret store. One schema, two engines: PostgreSQL
 * (`url`) for a fleet and an embedded SQLite folder (`path`) for one machine. Values are sealed
 * with envelope encryption (AES-256-GCM data keys wrapped by the key-encryption key); versions,
 * description and tags, soft delete with restore and purge, compare-and-set and pushed change
 * events (`subscribe`). What every backend does (options, the lazily opened store, reference and
 * value checks, error wrapping) is defineBackend's; read.ts and write.ts hold the operations.
 */
import { defineBackend, type SecretBackend, type SecretListing } from "@keyway/core/backend";
import { type Connection, closeStore, openStore } from "./connection.js";
import { storeContext } from "./context.js";
import { mapStoreError } from "./errors.js";
import {
  renameTimeout,
  type StoreBackendOptions,
  type StoreSettings,
  storeBackendSchema,
} from "./options.js";
import { currentVersion, listKeys, readValue, type StoreListOptions, subscribeChanges } from "./read.js";
import { removeSecret, writeValue } from "./write.js";

export { initializeStore, type RotateProgress, rotateStoreKey } from "./admin.js";
export { generateKeyText, KEY_VARIABLE, keyId, loadStoreKey, parseKeyText, type StoreKey } from "./key.js";
export type { StoreBackendOptions } from "./options.js";
export type { StoreListOptions } from "./read.js";

/** The methods a SecretBackend may have and the store always has. */
type StoreMethods =
  | "put"
  | "delete"
  | "probeVersion"
  | "subscribe"
  | "prepare"
  | "close"
  | "restore"
  | "purge";

/** The store backend: a SecretBackend with every optional member, and prefix listing. */
export interface StoreBackend
  extends Omit<SecretBackend, "list" | StoreMethods>,
    Required<Pick<SecretBackend, StoreMethods>> {
  list(namespace: string, options?: StoreListOptions): Promise<SecretListing[]>;
  /** The engine in use: `postgres` or `sqlite`. */
  readonly engine: "postgres" | "sqlite";
}

const engineOf = (settings: StoreSettings) => (settings.url !== undefined ? "postgres" : "sqlite");

/**
 * Creates the store backend. Options are checked now; the store is opened on first use (or at
 * `prepare()`), the key read then too, so a missing or wrong key is a ConfigurationError naming
 * KEYWAY_STORE_KEY or the key file, and a key other than the store's names both key ids.
 * @example
 * const store = createStoreBackend({ path: ".keyway/store", keyFile: ".keyway/store.key" });
 */
export const createStoreBackend: (options: StoreBackendOptions) => StoreBackend = defineBackend({
  vendor: "the store",
  defaultName: "store",
  options: storeBackendSchema,
  normalize: renameTimeout,
  capabilities: (settings) => ({
    write: !settings.readOnly,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: settings.maxValueBytes,
    compareAndSet: true,
    softDelete: true,
  }),
  client: {
    create: (settings, name): Promise<Connection> => openStore(settings, name),
    close: closeStore,
  },
  mapError: (error, { backend, signal }, settings) =>
    mapStoreError(error, engineOf(settings), backend, signal),
  operations: (kit) => {
    const ctx = storeContext(kit);
    return {
      get: (ref, options) => readValue(ctx, ref, options),
      probeVersion: (ref, { signal }) => currentVersion(ctx, ref, signal),
      list: (namespace, options) => listKeys(ctx, namespace, options),
      put: (ref, value, metadata, options) => writeValue(ctx, ref, value, metadata, options),
      delete: (ref, options) => removeSecret(ctx, ref, "delete", options),
      restore: (ref, options) => removeSecret(ctx, ref, "restore", options),
      purge: (ref, options) => removeSecret(ctx, ref, "purge", options),
      subscribe: (listener, { signal }) => subscribeChanges(ctx, listener, signal),
      prepare: async ({ signal }) => {
        await ctx.open(signal);
      },
    };
  },
  extras: (_operations, { settings }) => ({ engine: engineOf(settings) }),
}) as (options: StoreBackendOptions) => StoreBackend;
