/**
 * Writes (managed mode only). `put` is a create, or, when the name exists, an update in this
 * order, each step idempotent so a failed put is safe to re-run:
 *   1. DescribeSecret (what exists: deletion date, description, tags)
 *   2. RestoreSecret, only when the name is pending deletion (AWS refuses to update it otherwise)
 *   3. PutSecretValue (the new value becomes AWSCURRENT, the old one AWSPREVIOUS)
 *   4. UpdateSecret, only when a new description is given and differs
 *   5. TagResource for tags that differ, then UntagResource for user tags no longer given
 * A value always lands before its metadata: a put that fails half way leaves the new value
 * with the old description, never an old value with the new one.
 */
import {
  type PutMetadata,
  SecretNotFoundError,
  type SecretRef,
  type SecretsError,
} from "@keyway/core/backend";
import { isAwsError, isPendingDeletion, mapAwsError } from "./errors.js";
import { keywayTags, secretName, tagRecord, userTags } from "./names.js";
import type { Context } from "./read.js";

export interface WriteSettings {
  readonly prefix: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly forceDelete: boolean;
  readonly recoveryWindowDays: number;
}

const awsTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

export async function putSecret(
  ctx: Context,
  settings: WriteSettings,
  ref: SecretRef,
  value: string | Uint8Array,
  metadata: PutMetadata | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const name = secretName(settings.prefix, ref);
  const payload = typeof value === "string" ? { SecretString: value } : { SecretBinary: value };
  // AWS does not echo values, but should an error ever quote one, it is scrubbed (short values
  // would garble the message and are kept out of it by AWS anyway).
  const scrub = typeof value === "string" && value.length >= 4 ? [...ctx.secrets, value] : ctx.secrets;
  const fail = (error: unknown): SecretsError =>
    mapAwsError(error, { backend: ctx.backend, key: ref.key, write: true, secrets: scrub });
  const wanted = { ...settings.tags, ...metadata?.tags, ...keywayTags(settings.prefix, ref) };

  try {
    await ctx.call(
      "CreateSecret",
      { Name: name, ...payload, Description: metadata?.description, Tags: awsTags(wanted) },
      signal,
    );
    return;
  } catch (error) {
    // AWS says "scheduled for deletion" for a name in its recovery window; moto says it exists.
    if (!isAwsError(error, "ResourceExistsException") && !isPendingDeletion(error)) throw fail(error);
  }

  try {
    const existing = await ctx.call("DescribeSecret", { SecretId: name }, signal);
    const restored = existing.DeletedDate !== undefined;
    if (restored) await ctx.call("RestoreSecret", { SecretId: name }, signal);
    try {
      await ctx.call("PutSecretValue", { SecretId: name, ...payload }, signal);
    } catch (error) {
      // Do not leave a deleted value readable again: schedule its deletion anew, best effort;
      // the put's own error is what the caller needs.
      if (restored) {
        await ctx
          .call("DeleteSecret", { SecretId: name, RecoveryWindowInDays: settings.recoveryWindowDays })
          .catch(() => undefined);
      }
      throw error;
    }
    if (metadata?.description !== undefined && metadata.description !== existing.Description) {
      await ctx.call("UpdateSecret", { SecretId: name, Description: metadata.description }, signal);
    }
    const current = tagRecord(existing.Tags);
    const changed = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => current[k] !== v));
    if (Object.keys(changed).length > 0)
      await ctx.call("TagResource", { SecretId: name, Tags: awsTags(changed) }, signal);
    const dropped =
      metadata?.tags === undefined ? [] : Object.keys(userTags(current)).filter((k) => !(k in wanted));
    if (dropped.length > 0) await ctx.call("UntagResource", { SecretId: name, TagKeys: dropped }, signal);
  } catch (error) {
    throw fail(error);
  }
}

export async function deleteSecret(
  ctx: Context,
  settings: WriteSettings,
  ref: SecretRef,
  signal: AbortSignal | undefined,
): Promise<void> {
  const name = secretName(settings.prefix, ref);
  try {
    if (!settings.forceDelete) {
      // A name already pending deletion answers InvalidRequestException: not found, as for get.
      await ctx.call(
        "DeleteSecret",
        { SecretId: name, RecoveryWindowInDays: settings.recoveryWindowDays },
        signal,
      );
      return;
    }
    // A forced delete of a missing name succeeds at AWS: ask first, so a miss stays a miss.
    const existing = await ctx.call("DescribeSecret", { SecretId: name }, signal);
    if (existing.DeletedDate !== undefined) throw new SecretNotFoundError(ref.key, { backend: ctx.backend });
    await ctx.call("DeleteSecret", { SecretId: name, ForceDeleteWithoutRecovery: true }, signal);
  } catch (error) {
    throw mapAwsError(error, { backend: ctx.backend, key: ref.key, write: true, secrets: ctx.secrets });
  }
}
