/**
 * @keyway/backend-aws: AWS Secrets Manager behind Keyway's `SecretBackend`. Managed mode names
 * secrets `<prefix>/<tenant or _>/<namespace segments>/<KEY>` and tags them `keyway:*`; read-only
 * mode maps existing secrets by those names, by tags, or by a flat name prefix. The AWS SDK is
 * imported on first use, with its retries off (Keyway's resolver retries). What every backend
 * does (options, lazy client, reference and value checks, error wrapping) is defineBackend's.
 */
import {
  type BackendOperations,
  defineBackend,
  InvalidSecretValueError,
  type SecretBackend,
  type SecretRef,
} from "@keyway/core/backend";
import { createClient, credentialStrings, makeCall } from "./client.js";
import { mapAwsError } from "./errors.js";
import { listKeys, locatorFor } from "./locator.js";
import { TAG_PREFIX } from "./names.js";
import { type AwsBackendOptions, awsBackendSchema, withoutSdkMarks } from "./options.js";
import { type Context, currentVersionId, readBatch, readSecret, versionInput } from "./read.js";
import { deleteSecret, putSecret } from "./write.js";

export { mapAwsError } from "./errors.js";
export {
  keywayTags,
  MAX_PREFIX_LENGTH,
  NO_TENANT,
  namespaceNamePrefix,
  parseSecretName,
  secretName,
} from "./names.js";
export type {
  AssumeRoleCredentials,
  AwsBackendOptions,
  AwsCredentialsOption,
  AwsReadOnlyOption,
  DefaultCredentials,
  StaticCredentials,
} from "./options.js";

/** The largest SecretString or SecretBinary AWS stores. */
export const MAX_VALUE_BYTES = 65_536;

/**
 * Creates an AWS Secrets Manager backend. Checks the options now; connects on first use.
 * @example
 * const backend = createAwsBackend({ region: "eu-west-1", prefix: "kestra-prod" });
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "s3cr3t");
 * // stored as "kestra-prod/_/company/team/DB_PASSWORD"
 * (await backend.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal(); // "s3cr3t"
 */
export const createAwsBackend: (options: AwsBackendOptions) => SecretBackend = defineBackend({
  vendor: "AWS Secrets Manager",
  defaultName: "aws",
  options: awsBackendSchema,
  normalize: withoutSdkMarks,
  capabilities: ({ readOnly }) => ({
    write: readOnly === undefined,
    list: true,
    batch: readOnly?.match !== "tags", // tags mode lists before each read
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  }),
  client: {
    create: (settings) => createClient(settings, settings.requestTimeoutMs),
    injected: (settings) => settings.client,
    close: (client) => client.destroy(),
  },
  mapError: (error, { backend, key }, settings) =>
    mapAwsError(error, { backend, key, secrets: credentialStrings(settings.credentials) }),
  operations: (kit) => {
    const { settings } = kit;
    const ctx: Context = {
      backend: kit.name,
      call: makeCall(kit.client),
      secrets: credentialStrings(settings.credentials),
    };
    const locator = locatorFor(ctx, settings.prefix, settings.readOnly);
    const get = async (ref: SecretRef, opts: { signal?: AbortSignal | undefined; version?: string }) => {
      versionInput(opts.version);
      return readSecret(ctx, await locator.find(ref, opts.signal), ref.key, opts.version, opts.signal);
    };
    const ops: BackendOperations = {
      get,
      list: (namespace, opts) => listKeys(ctx, locator, namespace, opts.tenant, opts.signal),
      /**
       * The VersionId holding AWSCURRENT, from DescribeSecret (one request; in tags mode a
       * ListSecrets first, as for `get`): the value is never fetched.
       */
      probeVersion: async (ref, opts) =>
        currentVersionId(ctx, await locator.find(ref, opts.signal), ref.key, opts.signal),
      /** Builds the client and resolves its credentials (an assumed role, SSO, IMDS). */
      async prepare() {
        const { config } = await kit.client();
        if (typeof config?.credentials === "function") await config.credentials();
      },
    };
    const idOf = locator.idOf;
    if (idOf)
      ops.getMany = (refs, opts) =>
        readBatch(ctx, idOf, refs, opts, (ref) =>
          get(ref, opts).catch((e: unknown) => kit.fail(e, { operation: "get", key: ref.key })),
        );
    if (settings.readOnly === undefined) {
      ops.put = async (ref, value, metadata, opts) => {
        const reserved = Object.keys(metadata?.tags ?? {}).find((key) => key.startsWith(TAG_PREFIX));
        if (reserved !== undefined)
          throw new InvalidSecretValueError(
            `Tag '${reserved}' is reserved: '${TAG_PREFIX}' tags are Keyway's.`,
            { backend: kit.name },
          );
        await putSecret(ctx, settings, ref, value, metadata, opts.signal);
      };
      ops.delete = (ref, opts) => deleteSecret(ctx, settings, ref, opts.signal);
    }
    return ops;
  },
});
