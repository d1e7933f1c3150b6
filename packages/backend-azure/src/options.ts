/**
 * The options of the Azure backend: their types, the zod schemas (the only validator:
 * `keyway.yaml` through definition.ts, `createAzureBackend` through defineBackend) and the
 * defaults. A problem names the option and never echoes a value (a client secret is one).
 */
import type { TokenCredential } from "@azure/identity";
import { InvalidReferenceError, renamedOption } from "@keyway/core/backend";
import { z } from "zod";
import {
  type AzureCredentialOptions,
  type AzureSecretClient,
  type ClientSettings,
  isTokenCredential,
} from "./client.js";
import { encodeField } from "./names.js";

/** Options of `createAzureBackend`. */
export interface AzureBackendOptions {
  /** The vault, e.g. `https://my-vault.vault.azure.net`. Required unless `client` is given. */
  vaultUrl?: string | undefined;
  /**
   * How to authenticate: one of the modes, or any `TokenCredential` object (in code).
   * @default { type: "default" } (DefaultAzureCredential)
   */
  credential?: AzureCredentialOptions | TokenCredential | undefined;
  /**
   * First part of every secret name, so several deployments can share one vault; 1-64 characters
   * of `A-Z a-z 0-9 _ . -`.
   * @default "keyway"
   */
  prefix?: string | undefined;
  /** A configured `SecretClient` to use instead of building one (then `vaultUrl`, `credential`, `ca` are unused). */
  client?: AzureSecretClient | undefined;
  /**
   * PEM certificate(s) of a private CA or an emulator to trust for this client only, in addition to
   * Node's bundled roots. Certificate checks are never turned off.
   * @default none
   */
  ca?: string | readonly string[] | undefined;
  /**
   * Skip the check that the token challenge's resource matches the vault's host. Only for
   * emulators such as Lowkey Vault, whose challenge names another resource.
   * @default false
   */
  disableChallengeResourceVerification?: boolean | undefined;
  /** The Key Vault REST API version. @default the SDK's latest */
  serviceVersion?: ClientSettings["serviceVersion"] | undefined;
  /** Timeout of each HTTP request, in milliseconds. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** @deprecated Use `requestTimeoutMs` (read with a one-time warning, KEYWAY_DEP_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
  /** Wait between polls of a delete, recover or purge in progress, in milliseconds. @default 1000 */
  pollIntervalMs?: number | undefined;
  /**
   * On `put` to a name that is soft-deleted, purge it instead of recovering it (old versions are
   * lost). A vault with purge protection refuses: ConfigurationError, nothing changed.
   * @default false
   */
  purgeOnConflict?: boolean | undefined;
  /**
   * Purge after `delete`, so the name is free at once and nothing is recoverable. A vault with
   * purge protection refuses: the secret stays soft-deleted and `delete` fails with ConfigurationError.
   * @default false
   */
  purgeOnDelete?: boolean | undefined;
  /** Tags written on every `put`, under the caller's own. @default {} */
  tags?: Readonly<Record<string, string>> | undefined;
  /** The backend's name in errors and stats. @default "azure" */
  name?: string | undefined;
}

const text = z.string().min(1);
const PREFIX = /^[A-Za-z0-9_.-]{1,64}$/;
const credentialSchema = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("default"),
    managedIdentityClientId: text.optional(),
    tenantId: text.optional(),
  }),
  z.strictObject({ type: z.literal("clientSecret"), tenantId: text, clientId: text, clientSecret: text }),
  z.strictObject({ type: z.literal("managedIdentity"), clientId: text.optional() }),
  z.strictObject({
    type: z.literal("workloadIdentity"),
    tenantId: text.optional(),
    clientId: text.optional(),
    tokenFilePath: text.optional(),
  }),
]);
const pem = z.string().includes("-----BEGIN CERTIFICATE-----", { error: "must be PEM certificate text" });

const isHttpsUrl = (value: string) => {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && url.username === "" && url.password === "";
  } catch {
    return false;
  }
};

const fields = {
  vaultUrl: z.string().refine(isHttpsUrl, { error: "must be an https:// URL without credentials" }),
  credential: credentialSchema.optional(),
  prefix: z
    .string()
    .regex(PREFIX, "must be 1-64 characters of A-Z a-z 0-9 _ . -")
    // (zod runs this after a failed regex too; encodeField takes only the prefix alphabet.)
    .refine(
      (p) => !PREFIX.test(p) || encodeField(p).length <= 64,
      "is too long once encoded for Key Vault names (at most 64)",
    )
    .optional(),
  ca: z.union([pem, z.array(pem)]).optional(),
  disableChallengeResourceVerification: z.boolean().optional(),
  serviceVersion: z.enum(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"]).optional(),
  requestTimeoutMs: z.number().positive().optional(),
  /** @deprecated the old name of `requestTimeoutMs` (read with a warning). */
  timeoutMs: z.number().positive().optional(),
  pollIntervalMs: z.number().nonnegative().optional(),
  purgeOnConflict: z.boolean().optional(),
  purgeOnDelete: z.boolean().optional(),
  tags: z
    .record(z.string(), z.string())
    .refine((tags) => Object.keys(tags).every((t) => !t.toLowerCase().startsWith("keyway-")), {
      error: "tag names starting with 'keyway-' are reserved",
    })
    .optional(),
};

/** The options a config file may set (an injected `client` or credential object is code-only). */
export const azureOptionsSchema = z.strictObject(fields);

/** The options of `createAzureBackend`: the file's, a `name`, a `client` or a credential object. */
export const azureBackendSchema = z
  .strictObject({
    ...fields,
    vaultUrl: fields.vaultUrl.optional(),
    credential: z.union([z.custom<TokenCredential>(isTokenCredential), credentialSchema]).optional(),
    client: z
      .custom<AzureSecretClient>(
        (c) => typeof (c as { getSecret?: unknown } | null)?.getSecret === "function",
        "must be a SecretClient from @azure/keyvault-secrets",
      )
      .optional(),
    name: text.optional(),
  })
  .refine((o) => o.vaultUrl !== undefined || o.client !== undefined, {
    error: "is required (e.g. https://my-vault.vault.azure.net)",
    path: ["vaultUrl"],
  })
  .transform(({ timeoutMs: _renamed, ...o }) => ({
    ...o,
    prefix: o.prefix ?? "keyway",
    vaultUrl: o.vaultUrl ?? "",
    credential: (o.credential ?? { type: "default" }) as AzureCredentialOptions | TokenCredential,
    ca: o.ca === undefined ? [] : typeof o.ca === "string" ? [o.ca] : o.ca,
    disableChallengeResourceVerification: o.disableChallengeResourceVerification ?? false,
    requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    pollIntervalMs: o.pollIntervalMs ?? 1000,
    purgeOnConflict: o.purgeOnConflict ?? false,
    purgeOnDelete: o.purgeOnDelete ?? false,
    tags: { ...o.tags },
    serviceVersion: o.serviceVersion as ClientSettings["serviceVersion"],
  }));

/** The options after the schema, defaults applied. */
export type AzureSettings = z.output<typeof azureBackendSchema>;

/** `timeoutMs` (the old name) is read as `requestTimeoutMs`, with a one-time deprecation warning. */
export const renameTimeout = <O extends object>(options: O): O =>
  renamedOption(options, "timeoutMs", "requestTimeoutMs", "KEYWAY_DEP_TIMEOUT_MS");

/** Key Vault version ids are 32 hex characters; any plain alphanumeric id is accepted. */
const VERSION = /^[A-Za-z0-9]{1,64}$/;

/** A version id that is safe to send. @throws InvalidReferenceError */
export function checkVersion(version: string | undefined, backend: string): string | undefined {
  if (version === undefined || (typeof version === "string" && VERSION.test(version))) return version;
  throw new InvalidReferenceError("A secret version for Azure Key Vault must be 1-64 letters and digits.", {
    backend,
  });
}
