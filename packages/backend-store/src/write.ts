/** The store's writes: a new version (sealed under a fresh data key), delete, restore and purge. */
import {
  type PutMetadata,
  ReadOnlyError,
  SecretNotFoundError,
  type SecretRef,
  type WriteOptions,
} from "@keyway/core/backend";
import type { StoreContext } from "./context.js";
import { seal } from "./crypto.js";
import type { RemoveOperation } from "./engine.js";
import { conflictError } from "./errors.js";
import { bindingOf, storedName } from "./names.js";

/** ReadOnlyError when the store is read-only. */
export function assertWritable(ctx: StoreContext, ref: SecretRef): void {
  if (ctx.settings.readOnly)
    throw new ReadOnlyError(`Store backend '${ctx.name}' is read-only; '${ref.key}' was not written.`, {
      backend: ctx.name,
    });
}

/**
 * Writes `value` as a new version: one statement on PostgreSQL (compare-and-set, the version,
 * pruning past `keepVersions` and the change event), one transaction on SQLite.
 */
export async function writeValue(
  ctx: StoreContext,
  ref: SecretRef,
  value: string | Uint8Array,
  metadata: PutMetadata | undefined,
  options: WriteOptions,
): Promise<void> {
  assertWritable(ctx, ref);
  const { engine, key, storeId } = await ctx.open(options.signal);
  const plaintext = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
  try {
    await ctx.until(
      engine.write({
        name: storedName(ref),
        ifVersion: options.ifVersion,
        description: metadata?.description,
        tags: metadata?.tags,
        keep: ctx.settings.keepVersions,
        seal: (version) => ({
          kekId: key.id,
          binary: typeof value !== "string",
          ...seal(key.bytes, bindingOf(storeId, ref, version), plaintext),
        }),
      }),
      options.signal,
      `Writing '${ref.key}'`,
    );
  } finally {
    plaintext.fill(0);
  }
}

/** Soft-deletes, restores or purges a secret (delete honours `ifVersion`). */
export async function removeSecret(
  ctx: StoreContext,
  ref: SecretRef,
  operation: RemoveOperation,
  options: WriteOptions,
): Promise<void> {
  assertWritable(ctx, ref);
  const { engine } = await ctx.open(options.signal);
  const outcome = await ctx.until(
    engine.remove(storedName(ref), operation, options.ifVersion),
    options.signal,
    `Writing '${ref.key}'`,
  );
  if (outcome === "missing") throw new SecretNotFoundError(ref.key, { backend: ctx.name });
  if (outcome === "conflict") throw conflictError(ref.key, ctx.name);
}
