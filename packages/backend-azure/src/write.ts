/**
 * The Azure backend's writes: set a value (reclaiming a soft-deleted name first: recover it, or
 * purge it with `purgeOnConflict`), and delete (then purge with `purgeOnDelete`).
 */
import type { PutMetadata, SecretRef } from "@keyway/core/backend";
import type { AzureSecretClient } from "./client.js";
import type { AzureContext } from "./context.js";
import { isDeletedConflict, statusOf } from "./errors.js";
import { secretName } from "./names.js";
import { type PurgeOption, purgeDeleted } from "./soft-delete.js";
import { encodeTags, encodeValue } from "./values.js";
import { settle, sleep } from "./wait.js";

/** Writes tried while a soft-deleted name is being deleted, recovered or purged (one poll interval apart). */
const DELETED_RECOVERY_ATTEMPTS = 30;

export async function writeValue(
  ctx: AzureContext,
  ref: SecretRef,
  value: string | Uint8Array,
  metadata: PutMetadata,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { prefix } = ctx.settings;
  const secret = secretName(prefix, ref, ctx.name);
  const { text, contentType } = encodeValue(value, ref.key, ctx.name);
  const tags = encodeTags({ prefix, ...ref }, metadata, ctx.settings.tags, ctx.name);
  const set = (c: AzureSecretClient) =>
    c.setSecret(secret, text, { ...ctx.sdkOptions(signal), contentType, tags });
  await ctx.call(
    "put",
    ref.key,
    async (c) => {
      let reclaimed = false;
      for (let attempt = 1; ; attempt++) {
        try {
          await set(c);
          return;
        } catch (error) {
          if (!isDeletedConflict(error) || attempt >= DELETED_RECOVERY_ATTEMPTS) throw error;
        }
        // Reclaim the name once its deleted secret can be read; then try again at once.
        if (!reclaimed && (await reclaim(ctx, c, secret, ref.key, signal))) {
          reclaimed = true;
          continue;
        }
        // A delete, purge or recovery completes asynchronously: the name stays taken for a while.
        await sleep(ctx.settings.pollIntervalMs, signal);
      }
    },
    [text],
  );
}

export async function deleteSecret(
  ctx: AzureContext,
  ref: SecretRef,
  signal: AbortSignal | undefined,
): Promise<void> {
  const secret = secretName(ctx.settings.prefix, ref, ctx.name);
  await ctx.call("delete", ref.key, async (c) => {
    const poller = await c.beginDeleteSecret(secret, ctx.sdkOptions(signal));
    await settle(poller, "a delete", ctx.waitFor(signal));
    const deleted = poller.getResult();
    // No recoveryId: the vault has no soft delete, so there is nothing to purge.
    if (ctx.settings.purgeOnDelete && deleted?.recoveryId)
      await purge(ctx, c, secret, ref.key, "purgeOnDelete", deleted.properties?.recoveryLevel, signal);
  });
}

/**
 * Frees a soft-deleted name for a write: recovers it (default) or purges it. False while the
 * deleted secret cannot be read yet (404: a delete still in progress, or a 409 for another reason).
 */
async function reclaim(
  ctx: AzureContext,
  c: AzureSecretClient,
  secret: string,
  key: string,
  signal?: AbortSignal,
): Promise<boolean> {
  let deleted: Awaited<ReturnType<AzureSecretClient["getDeletedSecret"]>>;
  try {
    deleted = await c.getDeletedSecret(secret, ctx.sdkOptions(signal));
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
  if (ctx.settings.purgeOnConflict)
    await purge(ctx, c, secret, key, "purgeOnConflict", deleted.properties?.recoveryLevel, signal);
  else
    await settle(
      await c.beginRecoverDeletedSecret(secret, ctx.sdkOptions(signal)),
      "a recovery",
      ctx.waitFor(signal),
    );
  return true;
}

/** Purges a soft-deleted secret unless its recovery level says purge protection is on. */
function purge(
  ctx: AzureContext,
  c: AzureSecretClient,
  secret: string,
  key: string,
  option: PurgeOption,
  recoveryLevel: string | undefined,
  signal: AbortSignal | undefined,
) {
  const { name, settings } = ctx;
  return purgeDeleted(
    c,
    secret,
    { backend: name, key, option, recoveryLevel, pollIntervalMs: settings.pollIntervalMs },
    ctx.sdkOptions(signal),
  );
}
