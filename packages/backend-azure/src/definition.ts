/**
 * `type: azure` in `keyway.yaml`: the options schema and the factory. A separate entry so that
 * importing the backend does not load zod.
 */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { z } from "zod";
import { type AzureBackendOptions, createAzureBackend } from "./index.js";

const credential = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("default"),
    managedIdentityClientId: z.string().min(1).optional(),
    tenantId: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal("clientSecret"),
    tenantId: z.string().min(1),
    clientId: z.string().min(1),
    clientSecret: z.string().min(1),
  }),
  z.strictObject({ type: z.literal("managedIdentity"), clientId: z.string().min(1).optional() }),
  z.strictObject({
    type: z.literal("workloadIdentity"),
    tenantId: z.string().min(1).optional(),
    clientId: z.string().min(1).optional(),
    tokenFilePath: z.string().min(1).optional(),
  }),
]);

/** The options a config file may set (an injected `client` or credential object is code-only). */
export const optionsSchema = z.strictObject({
  vaultUrl: z.url({ protocol: /^https$/, error: "must be an https:// URL" }),
  credential: credential.optional(),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 characters of A-Z a-z 0-9 _ . -")
    .optional(),
  ca: z
    .union([
      z.string().includes("-----BEGIN CERTIFICATE-----"),
      z.array(z.string().includes("-----BEGIN CERTIFICATE-----")),
    ])
    .optional(),
  disableChallengeResourceVerification: z.boolean().optional(),
  serviceVersion: z.enum(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"]).optional(),
  timeoutMs: z.number().positive().optional(),
  pollIntervalMs: z.number().nonnegative().optional(),
  purgeOnConflict: z.boolean().optional(),
  purgeOnDelete: z.boolean().optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

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
