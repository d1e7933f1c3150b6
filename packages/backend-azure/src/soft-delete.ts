/**
 * Purging soft-deleted secrets. A vault with purge protection refuses every purge until its
 * retention period ends: that is how the vault is configured, not a denial or an outage, so it
 * fails with a ConfigurationError naming the option to change. The deleted secret's recovery
 * level says so before any purge is sent (`Recoverable`, `CustomizedRecoverable`... have no
 * `Purgeable`); a 403 "purge protection is enabled" from Azure is mapped the same way.
 */
import { ConfigurationError } from "@keyway/core/backend";
import type { AzureSecretClient } from "./client.js";
import { isDeletedConflict, statusOf } from "./errors.js";
import { sleep } from "./wait.js";

/** Purges tried while Azure still answers 409 "Secret is currently being deleted." */
const PURGE_ATTEMPTS = 30;

/** The option that asked for the purge, named in the error so the caller knows what to change. */
export type PurgeOption = "purgeOnConflict" | "purgeOnDelete";

export interface PurgeContext {
  readonly backend: string;
  /** The key (never a value), for the message. */
  readonly key: string;
  readonly option: PurgeOption;
  /** The deleted secret's `recoveryLevel`, when Key Vault reported one. */
  readonly recoveryLevel: string | undefined;
}

/**
 * False only when the recovery level says purging is not allowed. An unknown level is left to
 * Key Vault to decide (its 403 is mapped below).
 */
export function isPurgeable(recoveryLevel: string | undefined): boolean {
  return recoveryLevel === undefined || recoveryLevel.includes("Purgeable");
}

/**
 * Azure's answer to a purge on a purge-protected vault: 403 Forbidden, "Operation "purge" is not
 * allowed because purge protection is enabled for this vault..." (no inner code). A 403 for a
 * missing purge permission ("does not have secrets purge permission") stays access denied.
 */
export function isPurgeProtectionRefusal(error: unknown): boolean {
  if (statusOf(error) !== 403) return false;
  const e = error as { message?: unknown; details?: { error?: { message?: unknown } } };
  return [e.message, e.details?.error?.message].some(
    (text) => typeof text === "string" && /purge protection/i.test(text),
  );
}

/** The ConfigurationError for a purge the vault's purge protection refuses. */
export function purgeProtectedError(context: PurgeContext, cause?: unknown): ConfigurationError {
  const level = context.recoveryLevel === undefined ? "" : ` (recovery level '${context.recoveryLevel}')`;
  const consequence =
    context.option === "purgeOnDelete"
      ? `'${context.key}' was deleted and stays recoverable until the vault's retention period ends. ` +
        "Set purgeOnDelete: false for this vault."
      : `the soft-deleted '${context.key}' was left as it was. Set purgeOnConflict: false, so a write ` +
        "recovers the deleted secret and adds a new version.";
  return new ConfigurationError(
    `Azure Key Vault cannot purge: the vault has purge protection on${level}; ${consequence}`,
    { backend: context.backend, cause },
  );
}

/**
 * Purges a soft-deleted secret, after checking that its recovery level allows it.
 * @throws ConfigurationError when purge protection is on; the SDK's error otherwise
 */
export async function purgeDeleted(
  client: AzureSecretClient,
  secret: string,
  context: PurgeContext & { readonly pollIntervalMs: number },
  options: { abortSignal?: AbortSignal | undefined; requestOptions?: { timeout?: number } },
): Promise<void> {
  if (!isPurgeable(context.recoveryLevel)) throw purgeProtectedError(context);
  for (let attempt = 1; ; attempt++) {
    try {
      await client.purgeDeletedSecret(secret, options);
      return;
    } catch (error) {
      if (isPurgeProtectionRefusal(error)) throw purgeProtectedError(context, error);
      // A purge sent while the delete is still settling gets 409 (terraform-provider-azurerm #10454).
      if (!isDeletedConflict(error) || attempt >= PURGE_ATTEMPTS) throw error;
    }
    await sleep(context.pollIntervalMs, options.abortSignal);
  }
}
