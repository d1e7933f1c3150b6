/**
 * The store's "client": the engine for `url` or `path`, opened with the key-encryption key
 * checked against the store's, and the cache of unwrapped data keys. Created on first use (or at
 * `prepare()`) by defineBackend, shared by every call, closed by `close()`.
 */
import { ConfigurationError } from "@keyway/core/backend";
import { createDataKeyCache, type DataKeyCache } from "./crypto.js";
import type { Engine } from "./engine.js";
import { createPostgresEngine } from "./engine-postgres.js";
import { createSqliteEngine } from "./engine-sqlite.js";
import { loadStoreKey, type StoreKey } from "./key.js";

/** What the engines need of the options. */
export interface EngineOptions {
  readonly url?: string | undefined;
  readonly path?: string | undefined;
  readonly requestTimeoutMs?: number | undefined;
  readonly poolSize?: number | undefined;
}

/** An open store. */
export interface Connection {
  readonly engine: Engine;
  readonly key: StoreKey;
  readonly storeId: string;
  /** Unwrapped data keys by wrapped key (values are never cached). */
  readonly dataKeys: DataKeyCache;
}

/** The engine for options holding exactly one of `url` and `path` (nothing is opened yet). */
export function engineFor(options: EngineOptions, name: string): Engine {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  if ((options.url === undefined) === (options.path === undefined))
    throw new ConfigurationError(
      `Store backend '${name}': give exactly one of url: (PostgreSQL) and path: (an embedded folder).`,
    );
  return options.url !== undefined
    ? createPostgresEngine({ url: options.url, backend: name, timeoutMs, poolSize: options.poolSize ?? 10 })
    : createSqliteEngine({ path: options.path as string, backend: name, timeoutMs });
}

/** The error for a key other than the one a store or row is encrypted with. */
export function wrongKey(name: string, key: StoreKey, storedId: string): ConfigurationError {
  return new ConfigurationError(
    `Store backend '${name}': the store is encrypted with key id ${storedId}, but the key in ${key.source} has id ${key.id}.`,
    { backend: name },
  );
}

/**
 * Opens the store: reads the key (KEYWAY_STORE_KEY or `keyFile`, never created here) and the
 * store's meta rows, and checks the key is the store's (or the one a rotation is moving to).
 * @throws ConfigurationError naming the variable or file, or both key ids
 */
export async function openStore(
  options: EngineOptions & {
    readonly keyFile?: string | undefined;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly dataKeyCacheSize: number;
  },
  name: string,
): Promise<Connection> {
  const key = loadStoreKey(options.keyFile, options.env);
  const engine = engineFor(options, name);
  try {
    const meta = await engine.meta();
    if (meta.store_id === undefined)
      throw new ConfigurationError(
        `Store backend '${name}': the store has no id; was it created by \`keyway store init\`?`,
        { backend: name },
      );
    if (meta.key_id !== undefined && meta.key_id !== key.id && meta.rotating_to !== key.id)
      throw wrongKey(name, key, meta.key_id);
    return { engine, key, storeId: meta.store_id, dataKeys: createDataKeyCache(options.dataKeyCacheSize) };
  } catch (error) {
    await engine.close();
    throw error;
  }
}

/** Closes the engine and forgets (zeroes) the cached data keys. */
export async function closeStore(connection: Connection): Promise<void> {
  connection.dataKeys.clear();
  await connection.engine.close();
}
