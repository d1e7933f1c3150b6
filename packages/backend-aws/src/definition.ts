/**
 * `type: aws` in `keyway.yaml`: the options schema (zod) and the factory. A separate entry point
 * (`@keyway/backend-aws/definition`), so importing the backend itself does not load zod.
 */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { z } from "zod";
import { createAwsBackend } from "./index.js";
import { MAX_PREFIX_LENGTH } from "./names.js";
import type { AwsBackendOptions } from "./options.js";

const text = z.string().min(1);
const url = z.url({ protocol: /^https?$/ });
const tagMap = z.record(z.string().min(1).max(128), z.string().max(256));

export const defaultCredentialsSchema = z.strictObject({
  type: z.literal("default"),
  profile: text.optional(),
});

export const staticCredentialsSchema = z.strictObject({
  type: z.literal("static"),
  accessKeyId: text,
  secretAccessKey: text,
  sessionToken: text.optional(),
});

export const assumeRoleCredentialsSchema = z.strictObject({
  type: z.literal("assumeRole"),
  roleArn: z.string().startsWith("arn:"),
  roleSessionName: text.optional(),
  externalId: text.optional(),
  durationSeconds: z.int().min(900).max(43_200).optional(),
  source: z.discriminatedUnion("type", [defaultCredentialsSchema, staticCredentialsSchema]).optional(),
  stsRegion: text.optional(),
  stsEndpoint: url.optional(),
});

export const credentialsSchema = z.discriminatedUnion("type", [
  defaultCredentialsSchema,
  staticCredentialsSchema,
  assumeRoleCredentialsSchema,
]);

export const readOnlySchema = z.discriminatedUnion("match", [
  z.strictObject({ match: z.literal("names") }),
  z.strictObject({ match: z.literal("tags"), tags: tagMap.optional() }),
  z.strictObject({ match: z.literal("prefix"), namePrefix: z.string().regex(/^[A-Za-z0-9/_+=.@-]+$/) }),
]);

export const prefixSchema = z
  .string()
  .max(MAX_PREFIX_LENGTH)
  .regex(
    /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/,
    "use A-Z a-z 0-9 _ + = . @ - in parts separated by single '/'",
  );

/** The options of `type: aws` (an injected `client` cannot come from a file). */
export const awsOptionsSchema = z.strictObject({
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .optional(),
  endpoint: url.optional(),
  credentials: credentialsSchema.optional(),
  prefix: prefixSchema.optional(),
  requestTimeoutMs: z.int().positive().optional(),
  readOnly: readOnlySchema.optional(),
  tags: tagMap
    .refine((tags) => Object.keys(tags).every((k) => !k.startsWith("keyway:")), "'keyway:' tags are Keyway's")
    .optional(),
  forceDelete: z.boolean().optional(),
  recoveryWindowDays: z.int().min(7).max(30).optional(),
});

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
