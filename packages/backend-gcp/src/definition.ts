/** `type: gcp` in `keyway.yaml`: the options schema (camelCase, as GcpBackendOptions) and the factory. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { z } from "zod";
import { createGcpBackend, type GcpBackendOptions } from "./index.js";

const credentials = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("adc") }),
  z.strictObject({ type: z.literal("key_file"), keyFilename: z.string().min(1) }),
  // A service-account key file's JSON, as Google issues it (its other fields pass through).
  z.looseObject({
    type: z.literal("service_account"),
    client_email: z.string().includes("@"),
    private_key: z.string().includes("PRIVATE KEY", { error: "must be a PEM private key" }),
  }),
]);

const optionsSchema = z
  .strictObject({
    project: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}$/, { error: "must be a project id or number" }),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{0,100}$/, { error: "use at most 100 of A-Z a-z 0-9 _ -" })
      .optional(),
    credentials: credentials.optional(),
    emulatorEndpoint: z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { error: "must be host:port" })
      .optional(),
    timeoutMs: z.int().positive().optional(),
    listPageSize: z.int().min(1).max(25_000).optional(),
    readSecretMetadata: z.boolean().optional(),
  })
  .refine(
    (o) => o.emulatorEndpoint === undefined || o.credentials === undefined || o.credentials.type === "adc",
    {
      error: "emulatorEndpoint takes no credentials",
      path: ["credentials"],
    },
  );

/**
 * What `google-auth-library`'s Application Default Credentials read: the key or
 * external-account file, gcloud's config directory (which holds the user's ADC), and the
 * external-account executable's settings. The project id is not a credential and stays.
 */
export const credentialVariables: CredentialVariables = {
  secret: [],
  locator: [
    "GOOGLE_APPLICATION_CREDENTIALS",
    "CLOUDSDK_CONFIG",
    "GOOGLE_API_CERTIFICATE_CONFIG",
    "GOOGLE_EXTERNAL_ACCOUNT_*",
  ],
};

export const definition: BackendDefinition<GcpBackendOptions> = {
  type: "gcp",
  optionsSchema: optionsSchema as unknown as BackendDefinition<GcpBackendOptions>["optionsSchema"],
  create: (options, { name }) => createGcpBackend({ ...options, name }),
  credentialVariables: () => credentialVariables,
};
