/**
 * Creating a store and rotating its key-encryption key (what `keyway store init` and
 * `keyway store rotate-key` run).
 */
import { randomUUID } from "node:crypto";
import { ConfigurationError } from "@keyway/core/backend";
import { engineFor } from "./connection.js";
import { rewrap } from "./crypto.js";
import { initializePostgres } from "./engine-postgres.js";
import { initializeSqlite } from "./engine-sqlite.js";
import type { StoreKey } from "./key.js";
import type { StoreBackendOptions } from "./options.js";

/**
 * Creates an empty store (the schema and its meta rows: a random store id and the key's id) at
 * `url` or `path`. Refuses a place that already holds a store: a store is never given a new key
 * silently.
 */
export async function initializeStore(
  options: Pick<StoreBackendOptions, "url" | "path" | "name" | "requestTimeoutMs" | "timeoutMs">,
  key: StoreKey,
): Promise<{ storeId: string }> {
  const backend = options.name ?? "store";
  const storeId = randomUUID();
  const meta = { store_id: storeId, key_id: key.id };
  const timeoutMs = options.requestTimeoutMs ?? options.timeoutMs ?? 10_000;
  if ((options.url === undefined) === (options.path === undefined))
    throw new ConfigurationError("Give exactly one of url (PostgreSQL) and path (an embedded folder).");
  if (options.url !== undefined)
    await initializePostgres({ url: options.url, backend, timeoutMs, poolSize: 1 }, meta);
  else initializeSqlite({ path: options.path as string, backend, timeoutMs }, meta);
  return { storeId };
}

/** How far a rotation got. */
export interface RotateProgress {
  /** Data keys re-wrapped by this run. */
  readonly rewrapped: number;
  /** Rows already under the new key when this run began them (an earlier, interrupted run). */
  readonly done: boolean;
}

/**
 * Re-wraps every data key under `newKey` (values are not re-encrypted), in batches, each batch
 * one transaction. Resumable: run it again with the same two keys after an interruption and it
 * goes on with the rows still under the old key. When every row is done, the store's key id
 * becomes the new key's.
 * @throws ConfigurationError when `oldKey` is not the store's key, or a row is under a third key.
 */
export async function rotateStoreKey(
  options: StoreBackendOptions,
  oldKey: StoreKey,
  newKey: StoreKey,
  onBatch?: (rewrapped: number) => void,
  batchSize = 200,
): Promise<RotateProgress> {
  const backend = options.name ?? "store";
  const engine = engineFor(
    { ...options, requestTimeoutMs: options.requestTimeoutMs ?? options.timeoutMs },
    backend,
  );
  try {
    const meta = await engine.meta();
    const storeId = meta.store_id as string;
    if (meta.key_id !== oldKey.id && meta.key_id !== newKey.id)
      throw new ConfigurationError(
        `The store is encrypted with key id ${meta.key_id}; the current key given (${oldKey.source}) has id ${oldKey.id}.`,
        { backend },
      );
    if (oldKey.id === newKey.id) throw new ConfigurationError("The new key is the current key.", { backend });
    await engine.setMeta("rotating_to", newKey.id);
    let rewrapped = 0;
    for (;;) {
      const rows = await engine.unwrapped(newKey.id, batchSize);
      if (rows.length === 0) break;
      const updates = rows.map((row) => {
        if (row.kekId !== oldKey.id)
          throw new ConfigurationError(
            `Secret '${row.key}' version ${row.version} is wrapped by key id ${row.kekId}, neither the current key (${oldKey.id}) nor the new one (${newKey.id}).`,
            { backend },
          );
        const binding = {
          storeId,
          tenant: row.tenant,
          namespace: row.namespace,
          key: row.key,
          version: row.version,
        };
        return {
          ...row,
          newKekId: newKey.id,
          newWrappedKey: rewrap(oldKey.bytes, newKey.bytes, binding, row.wrappedKey),
        };
      });
      await engine.rewrapped(updates);
      rewrapped += updates.length;
      onBatch?.(rewrapped);
    }
    await engine.setMeta("key_id", newKey.id);
    await engine.setMeta("rotating_to", "");
    return { rewrapped, done: true };
  } finally {
    await engine.close();
  }
}
