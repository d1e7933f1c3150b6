/**
 * Eager checks of the backend's options: a wrong shape fails in the factory, before any
 * connection, with a message that names the option and never echoes a credential.
 */
import type { TokenCredential } from "@azure/identity";
import { ConfigurationError, InvalidReferenceError } from "@keyway/core/backend";
import type { AzureCredentialOptions, ClientSettings } from "./client.js";
import { isTokenCredential } from "./client.js";
import type { AzureBackendOptions } from "./index.js";
import { encodeField } from "./names.js";

/** The options with defaults applied, as the backend uses them. */
export interface CheckedOptions extends ClientSettings {
  readonly name: string;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  readonly purgeOnConflict: boolean;
  readonly purgeOnDelete: boolean;
  readonly tags: Readonly<Record<string, string>>;
  /** Returns a version id that is safe to send, or throws InvalidReferenceError. */
  checkVersion(version: string | undefined): string | undefined;
}

const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
/** Key Vault version ids are 32 hex characters; accept any plain alphanumeric id. */
const VERSION = /^[A-Za-z0-9]{1,64}$/;
const CREDENTIAL_FIELDS: Record<AzureCredentialOptions["type"], { required: string[]; optional: string[] }> =
  {
    default: { required: [], optional: ["managedIdentityClientId", "tenantId"] },
    clientSecret: { required: ["tenantId", "clientId", "clientSecret"], optional: [] },
    managedIdentity: { required: [], optional: ["clientId"] },
    workloadIdentity: { required: [], optional: ["tenantId", "clientId", "tokenFilePath"] },
  };

/** Validates `options` and applies defaults. @throws ConfigurationError naming the option. */
export function checkOptions(options: AzureBackendOptions): CheckedOptions {
  const bad = (message: string) =>
    new ConfigurationError(`Azure backend: ${message}`, { backend: options?.name });
  if (typeof options !== "object" || options === null) throw bad("options must be an object.");
  const name = options.name ?? "azure";
  if (typeof name !== "string" || name.trim() === "") throw bad("option 'name' must be a non-empty string.");

  const client = options.client as unknown;
  if (client !== undefined && typeof (client as { getSecret?: unknown })?.getSecret !== "function") {
    throw bad("option 'client' must be a SecretClient from @azure/keyvault-secrets.");
  }
  const vaultUrl = options.vaultUrl;
  if (vaultUrl === undefined) {
    if (client === undefined)
      throw bad("option 'vaultUrl' is required (e.g. https://my-vault.vault.azure.net).");
  } else if (typeof vaultUrl !== "string" || !isHttpsUrl(vaultUrl)) {
    throw bad(
      "option 'vaultUrl' must be an https:// URL without credentials (e.g. https://my-vault.vault.azure.net).",
    );
  }

  const credential = checkCredential(options.credential, bad);
  const prefix = options.prefix ?? "keyway";
  if (typeof prefix !== "string" || !PREFIX.test(prefix)) {
    throw bad("option 'prefix' must be 1-64 characters of A-Z a-z 0-9 _ . -.");
  }
  if (encodeField(prefix).length > 64) {
    throw bad(
      "option 'prefix' is too long once encoded for Key Vault names (at most 64); use fewer capitals and symbols.",
    );
  }

  const ca = options.ca === undefined ? [] : typeof options.ca === "string" ? [options.ca] : options.ca;
  if (
    !Array.isArray(ca) ||
    !ca.every((pem) => typeof pem === "string" && pem.includes("-----BEGIN CERTIFICATE-----"))
  ) {
    throw bad("option 'ca' must be PEM certificate text (-----BEGIN CERTIFICATE-----), or a list of them.");
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw bad("option 'timeoutMs' must be a positive number of milliseconds.");
  }
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  if (typeof pollIntervalMs !== "number" || !Number.isFinite(pollIntervalMs) || pollIntervalMs < 0) {
    throw bad("option 'pollIntervalMs' must be a number of milliseconds, 0 or more.");
  }
  for (const flag of ["disableChallengeResourceVerification", "purgeOnConflict", "purgeOnDelete"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean")
      throw bad(`option '${flag}' must be true or false.`);
  }
  const tags = options.tags ?? {};
  if (typeof tags !== "object" || tags === null || !Object.values(tags).every((v) => typeof v === "string")) {
    throw bad("option 'tags' must map tag names to strings.");
  }
  if (Object.keys(tags).some((t) => t.toLowerCase().startsWith("keyway-"))) {
    throw bad("option 'tags': tag names starting with 'keyway-' are reserved.");
  }
  if (options.serviceVersion !== undefined && typeof options.serviceVersion !== "string") {
    throw bad("option 'serviceVersion' must be a string such as \"7.6\".");
  }

  return {
    name,
    prefix,
    vaultUrl: vaultUrl ?? "",
    credential,
    ca,
    disableChallengeResourceVerification: options.disableChallengeResourceVerification ?? false,
    serviceVersion: options.serviceVersion,
    timeoutMs,
    pollIntervalMs,
    purgeOnConflict: options.purgeOnConflict ?? false,
    purgeOnDelete: options.purgeOnDelete ?? false,
    tags: { ...tags },
    checkVersion(version) {
      if (version === undefined) return undefined;
      if (typeof version === "string" && VERSION.test(version)) return version;
      throw new InvalidReferenceError(
        "A secret version for Azure Key Vault must be 1-64 letters and digits.",
        {
          backend: name,
        },
      );
    },
  };
}

function isHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "https:" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
}

function checkCredential(
  credential: AzureBackendOptions["credential"],
  bad: (message: string) => ConfigurationError,
): AzureCredentialOptions | TokenCredential {
  if (credential === undefined) return { type: "default" };
  if (isTokenCredential(credential)) return credential;
  const type = (credential as { type?: unknown } | null)?.type;
  const fields =
    typeof type === "string" ? CREDENTIAL_FIELDS[type as AzureCredentialOptions["type"]] : undefined;
  if (!fields || typeof credential !== "object") {
    throw bad(
      `option 'credential' must be a TokenCredential or have 'type' ${Object.keys(CREDENTIAL_FIELDS)
        .map((t) => `"${t}"`)
        .join(", ")}.`,
    );
  }
  const record = credential as unknown as Record<string, unknown>;
  for (const field of fields.required) {
    if (typeof record[field] !== "string" || record[field] === "") {
      throw bad(`option 'credential.${field}' is required for type "${type}".`);
    }
  }
  for (const field of fields.optional) {
    if (record[field] !== undefined && typeof record[field] !== "string") {
      throw bad(`option 'credential.${field}' must be a string.`);
    }
  }
  const unknown = Object.keys(record).filter(
    (k) => k !== "type" && ![...fields.required, ...fields.optional].includes(k),
  );
  if (unknown.length > 0)
    throw bad(
      `option 'credential' has unknown field(s) ${unknown.map((k) => `'${k}'`).join(", ")} for type "${type}".`,
    );
  return credential as AzureCredentialOptions;
}
