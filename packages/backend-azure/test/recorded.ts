// Key Vault responses that Lowkey Vault never produces, written by hand from facts read in the
// Azure SDK for JS recordings (Azure/azure-sdk-for-js, sdk/keyvault/keyvault-secrets/recordings/)
// and in issue threads quoting real Azure answers. Each builder cites where its shape comes from.
import { type Exchange, RECORDED_VAULT } from "./recorded-vault.js";

const VERSION = "f058a3f18e094702bb173feba82632e6";
const CREATED = 1588272425;

/** A 32-hex version id, like Key Vault's (e.g. `f058a3f18e094702bb173feba82632e6`). */
export const version = (n: number) => n.toString(16).padStart(32, "0");

/** Key Vault's error body: `{"error":{"code","message","innererror":{"code"}}}` (lowercase innererror). */
export function errorBody(code: string, message: string, inner?: string) {
  return { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } };
}

export interface BundleOptions {
  version?: string;
  recoveryLevel?: string;
  enabled?: boolean;
  tags?: Record<string, string>;
  contentType?: string;
}

const attributes = (o: BundleOptions) => ({
  enabled: o.enabled ?? true,
  created: CREATED,
  updated: CREATED,
  recoveryLevel: o.recoveryLevel ?? "Recoverable+Purgeable",
  recoverableDays: 90,
});

/** A secret bundle (GET / PUT secrets/{name}), as in recording_cant_get_a_disabled_secret.json. */
export function secretBundle(name: string, value: string, o: BundleOptions = {}) {
  return {
    value,
    id: `${RECORDED_VAULT}/secrets/${name}/${o.version ?? VERSION}`,
    attributes: attributes(o),
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.contentType ? { contentType: o.contentType } : {}),
  };
}

/**
 * A deleted secret bundle (DELETE secrets/{name}, GET deletedsecrets/{name}): `recoveryId`,
 * `deletedDate`, `scheduledPurgeDate`, and the recovery level in `attributes` (`Recoverable+Purgeable`
 * or `CustomizedRecoverable+Purgeable` in the recordings; a purge-protected vault reports
 * `Recoverable` / `CustomizedRecoverable`, without `Purgeable`).
 */
export function deletedBundle(name: string, o: BundleOptions = {}) {
  return {
    recoveryId: `${RECORDED_VAULT}/deletedsecrets/${name}`,
    deletedDate: CREATED,
    scheduledPurgeDate: CREATED + 90 * 86_400,
    id: `${RECORDED_VAULT}/secrets/${name}/${o.version ?? VERSION}`,
    attributes: attributes(o),
  };
}

/** A list item (no value; the id has no version), as in recording_can_list_secrets_by_page.json. */
export function listItem(name: string, o: BundleOptions = {}) {
  return {
    id: `${RECORDED_VAULT}/secrets/${name}`,
    attributes: attributes(o),
    ...(o.tags ? { tags: o.tags } : {}),
  };
}

/** A nextLink as Key Vault writes it: absolute, `:443`, a `$skiptoken` and `maxresults`. */
export const nextLink = (token: string) =>
  `${RECORDED_VAULT}:443/secrets?api-version=7.6&$skiptoken=${token}&maxresults=25`;

// ---- exchanges ----

/**
 * GET of a disabled secret: 403 Forbidden with innererror SecretDisabled
 * (recording_cant_get_a_disabled_secret.json).
 */
export const getDisabled = (name: string): Exchange => ({
  method: "GET",
  path: `/secrets/${name}`,
  status: 403,
  body: errorBody("Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"),
});

/**
 * GET deletedsecrets/{name} right after a DELETE: 404 SecretNotFound "Deleted Secret not found",
 * repeated for about ten seconds before the deleted secret shows (recording_can_get_a_deleted_secret.json:
 * six 404s from 19:45:48 to 19:45:57, then 200).
 */
export const deletedNotYet = (name: string): Exchange => ({
  method: "GET",
  path: `/deletedsecrets/${name}`,
  status: 404,
  body: errorBody("SecretNotFound", `Deleted Secret not found: ${name}`),
});

/**
 * PUT to a soft-deleted name: 409 Conflict "... is currently in a deleted but recoverable state"
 * (quoted from Azure in ironmansoftware/powershell-universal #1990, Azure/azure-powershell #14800;
 * inner code ObjectIsDeletedButRecoverable per external-secrets/external-secrets #3519).
 */
export const putDeletedConflict = (name: string): Exchange => ({
  method: "PUT",
  path: `/secrets/${name}`,
  status: 409,
  body: errorBody(
    "Conflict",
    `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    "ObjectIsDeletedButRecoverable",
  ),
});

/** 409 Conflict "Secret is currently being deleted." (terraform-provider-azurerm #10454). */
export const beingDeleted = (method: Exchange["method"], path: string): Exchange => ({
  method,
  path,
  status: 409,
  body: errorBody("Conflict", "Secret is currently being deleted."),
});

/**
 * Purge on a purge-protected vault: 403 Forbidden, no inner code (quoted from Azure in
 * Azure/sap-automation #200 and microsoft/AzureTRE #1951).
 */
export const purgeProtected = (name: string): Exchange => ({
  method: "DELETE",
  path: `/deletedsecrets/${name}`,
  status: 403,
  body: errorBody(
    "Forbidden",
    'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.\r\nVault: keyvault_name;location=westeurope',
  ),
});

/**
 * Purge without the purge permission: 403 Forbidden "does not have secrets purge permission",
 * inner code ForbiddenByPolicy (quoted in hashicorp/terraform-provider-azurerm #9984).
 */
export const purgeNotPermitted = (name: string): Exchange => ({
  method: "DELETE",
  path: `/deletedsecrets/${name}`,
  status: 403,
  body: errorBody(
    "Forbidden",
    "The user, group or application 'appid=00000000-0000-0000-0000-000000000000;oid=00000000-0000-0000-0000-000000000000;numgroups=1;iss=https://sts.windows.net/00000000-0000-0000-0000-000000000000/' does not have secrets purge permission on key vault 'keyvault_name;location=westeurope'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287",
    "ForbiddenByPolicy",
  ),
});

/** A successful purge: 204 with no body (recording_can_get_a_deleted_secret.json). */
export const purged = (name: string): Exchange => ({
  method: "DELETE",
  path: `/deletedsecrets/${name}`,
  status: 204,
});
