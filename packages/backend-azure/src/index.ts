/**
 * @keyway/backend-azure: Azure Key Vault secrets behind Keyway's one interface. Each ref maps to
 * one secret whose name encodes prefix, tenant, namespace and key (reversibly, case included:
 * see names.ts); values are text, or bytes stored as base64. The Azure SDK is loaded on first use.
 * What every backend does (options, lazy client, reference and value checks, error wrapping) is
 * defineBackend's.
 */
import { defineBackend, type SecretBackend } from "@keyway/core/backend";
import { createSecretClient, credentialSecrets } from "./client.js";
import { azureContext } from "./context.js";
import { mapAzureError, type Operation } from "./errors.js";
import { type AzureBackendOptions, azureBackendSchema, renameTimeout } from "./options.js";
import { currentVersion, listKeys, readValue } from "./read.js";
import { MAX_VALUE_BYTES } from "./values.js";
import { deleteSecret, writeValue } from "./write.js";

export type { AzureCredentialOptions, AzureSecretClient } from "./client.js";
export { decodeName, encodeName, MAX_NAME_LENGTH } from "./names.js";
export type { AzureBackendOptions } from "./options.js";
export { BINARY_CONTENT_TYPE, MAX_BINARY_BYTES, MAX_VALUE_BYTES, TAGS } from "./values.js";

/** The step each contract operation maps an unmapped SDK error as. */
const STEP: Record<string, Operation> = { list: "list", put: "put", delete: "delete" };

/**
 * Creates the Azure Key Vault backend. Checks options now; connects on first use.
 * @example
 * const backend = createAzureBackend({
 *   vaultUrl: "https://my-vault.vault.azure.net",
 *   credential: { type: "managedIdentity" },
 * });
 * (await backend.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal();
 */
export const createAzureBackend: (options: AzureBackendOptions) => SecretBackend = defineBackend({
  vendor: "Azure Key Vault",
  defaultName: "azure",
  options: azureBackendSchema,
  normalize: renameTimeout,
  capabilities: () => ({
    write: true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  }),
  // The SDK client holds no timers; pooled sockets close when idle (nothing to close).
  client: { create: (settings) => createSecretClient(settings), injected: (settings) => settings.client },
  mapError: (error, { backend, key, operation }, { credential }) =>
    mapAzureError(error, {
      backend,
      key,
      operation: STEP[operation] ?? "get",
      secrets: credentialSecrets(credential),
    }),
  operations: (kit) => {
    const ctx = azureContext(kit);
    return {
      get: (ref, options) => readValue(ctx, ref, options),
      list: (namespace, options) => listKeys(ctx, namespace, options),
      probeVersion: (ref, { signal }) => currentVersion(ctx, ref, signal),
      put: (ref, value, metadata, { signal }) => writeValue(ctx, ref, value, metadata ?? {}, signal),
      delete: (ref, { signal }) => deleteSecret(ctx, ref, signal),
    };
  },
});
