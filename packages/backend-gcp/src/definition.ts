/** `type: gcp` in `keyway.yaml`: the options schema (options.ts, camelCase as GcpBackendOptions) and the factory. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { createGcpBackend, type GcpBackendOptions } from "./index.js";
import { gcpOptionsSchema } from "./options.js";

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
  optionsSchema: gcpOptionsSchema as unknown as BackendDefinition<GcpBackendOptions>["optionsSchema"],
  create: (options, { name }) => createGcpBackend({ ...options, name }),
  credentialVariables: () => credentialVariables,
};
