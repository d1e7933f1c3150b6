/**
 * `type: aws` in `keyway.yaml`: the options schema (zod, in options.ts), the factory and the
 * credential variables, for the config loader (`@keyway/backend-aws/definition`).
 */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { createAwsBackend } from "./index.js";
import { type AwsBackendOptions, awsOptionsSchema } from "./options.js";

export {
  assumeRoleCredentialsSchema,
  awsOptionsSchema,
  credentialsSchema,
  defaultCredentialsSchema,
  prefixSchema,
  readOnlySchema,
  staticCredentialsSchema,
} from "./options.js";

/**
 * What the AWS SDK's default credential chain reads (`@aws-sdk/credential-provider-node`: env,
 * shared ini files and SSO, web identity, ECS/EKS container credentials, `credential_process`).
 * Regions and endpoints are not credentials and stay.
 */
export const credentialVariables: CredentialVariables = {
  secret: [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  ],
  locator: [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_*",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_CREDENTIAL_SCOPE",
    "AWS_ACCOUNT_ID",
  ],
};

export const definition: BackendDefinition<AwsBackendOptions> = {
  type: "aws",
  optionsSchema: awsOptionsSchema,
  create: (options, { name }) => createAwsBackend({ ...options, name }),
  credentialVariables: () => credentialVariables,
};
