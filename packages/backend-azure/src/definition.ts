/**
 * `type: azure` in `keyway.yaml`: the options schema (options.ts) and the factory, for the config
 * loader (`@keyway/backend-azure/definition`).
 */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { type AzureBackendOptions, createAzureBackend } from "./index.js";
import { azureOptionsSchema } from "./options.js";

/** The options a config file may set (an injected `client` or credential object is code-only). */
export const optionsSchema = azureOptionsSchema;

/**
 * What `@azure/identity`'s DefaultAzureCredential reads: EnvironmentCredential (client secret,
 * certificate, username and password), WorkloadIdentityCredential, and the managed identity
 * endpoints of App Service, Functions, Arc, Service Fabric and Cloud Shell (IDENTITY_*, MSI_*).
 */
export const credentialVariables: CredentialVariables = {
  secret: [
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_PASSWORD",
    "IDENTITY_HEADER",
    "MSI_SECRET",
  ],
  locator: [
    "AZURE_CLIENT_ID",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_AUTHORITY_HOST",
    "AZURE_TOKEN_CREDENTIALS",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
  ],
};

export const definition: BackendDefinition<AzureBackendOptions> = {
  type: "azure",
  optionsSchema: optionsSchema as BackendDefinition<AzureBackendOptions>["optionsSchema"],
  create: (options, context) => createAzureBackend({ ...options, name: options.name ?? context.name }),
  credentialVariables: () => credentialVariables,
};
