/**
 * The options of the AWS backend: their types (documented for users), the zod schemas (the only
 * validator: `keyway.yaml` through definition.ts, `createAwsBackend` through defineBackend) and
 * the defaults. Messages never echo a value (an option may be a credential).
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { z } from "zod";
import { MAX_PREFIX_LENGTH, PREFIX_PATTERN, TAG_PREFIX } from "./names.js";

/** The SDK's default provider chain (env, shared config/SSO, web identity, ECS, EC2 IMDS). */
export interface DefaultCredentials {
  type: "default";
  /** A profile of the shared config files. @default AWS_PROFILE, else "default" */
  profile?: string | undefined;
}

/** Fixed keys, e.g. from a vault or for local emulators. */
export interface StaticCredentials {
  type: "static";
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary keys. @default undefined */
  sessionToken?: string | undefined;
}

/** A role assumed through STS (`fromTemporaryCredentials`), refreshed before it expires. */
export interface AssumeRoleCredentials {
  type: "assumeRole";
  roleArn: string;
  /** @default "keyway" */
  roleSessionName?: string | undefined;
  /** The external id the role's trust policy asks for. @default undefined */
  externalId?: string | undefined;
  /** Session length, 900–43200 s. @default 3600 (STS's default) */
  durationSeconds?: number | undefined;
  /** Who assumes the role. @default { type: "default" } */
  source?: DefaultCredentials | StaticCredentials | undefined;
  /** STS region. @default the backend's `region` */
  stsRegion?: string | undefined;
  /** STS endpoint (VPC endpoint, emulator). @default the SDK's regional STS endpoint */
  stsEndpoint?: string | undefined;
}

/** How the backend authenticates. */
export type AwsCredentialsOption = DefaultCredentials | StaticCredentials | AssumeRoleCredentials;

/**
 * Read-only mode: the store is the source of truth, Keyway never writes (`put` and `delete` are
 * absent, `capabilities.write` is false).
 * - `names`: secrets named by Keyway's mapping under `prefix` (written by Terraform, say).
 * - `tags`: secrets of any name tagged `keyway:key`, `keyway:namespace` (and `keyway:tenant`),
 *   optionally also carrying every tag in `tags`. Each get lists by tag first (two calls).
 * - `prefix`: flat, like Kestra's `filterOnPrefix`: the secret `<namePrefix><KEY>` serves `KEY`
 *   in every namespace and tenant.
 */
export type AwsReadOnlyOption =
  | { match: "names" }
  | { match: "tags"; tags?: Readonly<Record<string, string>> | undefined }
  | { match: "prefix"; namePrefix: string };

/** Options of `createAwsBackend`. */
export interface AwsBackendOptions {
  /** The backend's name in errors and stats. @default "aws" */
  name?: string | undefined;
  /** AWS region. @default the SDK's (AWS_REGION, shared config) */
  region?: string | undefined;
  /** Endpoint URL (VPC endpoint, LocalStack, moto). @default the regional endpoint */
  endpoint?: string | undefined;
  /** How to authenticate. @default { type: "default" } (the SDK's provider chain) */
  credentials?: AwsCredentialsOption | undefined;
  /** First part of every secret name, so several deployments share an account. @default "keyway" */
  prefix?: string | undefined;
  /** Per-request timeout (connection and whole request), in ms. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** Read-only mode. @default undefined (managed: Keyway creates, updates and deletes secrets) */
  readOnly?: AwsReadOnlyOption | undefined;
  /** Tags added to every secret this backend writes (not `keyway:`, which are Keyway's). @default {} */
  tags?: Readonly<Record<string, string>> | undefined;
  /** Delete without a recovery window (`ForceDeleteWithoutRecovery`). @default false */
  forceDelete?: boolean | undefined;
  /** Recovery window of a delete, 7–30 days. @default 7 */
  recoveryWindowDays?: number | undefined;
  /**
   * A configured client to use instead of creating one; then `region`, `endpoint`, `credentials`
   * and `requestTimeoutMs` must be absent, and its own retry setting applies (set `maxAttempts: 1`:
   * Keyway retries). It is not destroyed by `close()`. @default undefined
   */
  client?: SecretsManagerClient | undefined;
}

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
  .regex(PREFIX_PATTERN, "use A-Z a-z 0-9 _ + = . @ - in parts separated by single '/'");

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
    .refine(
      (tags) => Object.keys(tags).every((k) => !k.startsWith(TAG_PREFIX)),
      `'${TAG_PREFIX}' tags are Keyway's`,
    )
    .optional(),
  forceDelete: z.boolean().optional(),
  recoveryWindowDays: z.int().min(7).max(30).optional(),
});

const isClient = (c: unknown): c is SecretsManagerClient =>
  typeof c === "object" && c !== null && typeof (c as { send?: unknown }).send === "function";
/** Options a configured client replaces. */
const CLIENT_SETS = ["region", "endpoint", "credentials", "requestTimeoutMs"] as const;

/**
 * The options of `createAwsBackend`: the file's, a `name` and an injected `client`, with the
 * defaults applied.
 */
export const awsBackendSchema = awsOptionsSchema
  .extend({
    name: z.string().min(1).optional(),
    client: z.custom<SecretsManagerClient>(isClient, "must be a SecretsManagerClient").optional(),
  })
  .superRefine((o, ctx) => {
    if (o.client === undefined) return;
    for (const option of CLIENT_SETS)
      if (o[option] !== undefined)
        ctx.addIssue({
          code: "custom",
          path: [option],
          message: "would be ignored, since 'client' is given: configure the client instead",
        });
  })
  .transform((o) => ({
    ...o,
    prefix: o.prefix ?? "keyway",
    requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    tags: { ...o.tags },
    forceDelete: o.forceDelete ?? false,
    recoveryWindowDays: o.recoveryWindowDays ?? 7,
  }));

/**
 * The options without the marks the AWS SDK writes into a credentials object it was given
 * (`$source`, for its usage metrics): an application may pass Keyway the object it gave its own
 * client, and the strict schema would refuse the SDK's keys as unknown options.
 */
export function withoutSdkMarks(options: AwsBackendOptions): AwsBackendOptions {
  const clean = <T extends object | undefined>(o: T): T =>
    o && (Object.fromEntries(Object.entries(o).filter(([k]) => !k.startsWith("$"))) as T);
  const credentials = clean(options?.credentials);
  if (credentials?.type === "assumeRole") credentials.source = clean(credentials.source);
  return credentials === undefined ? options : { ...options, credentials };
}

/** The options after the schema, defaults applied. */
export type AwsSettings = z.output<typeof awsBackendSchema>;
