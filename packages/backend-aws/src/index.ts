/**
 * @keyway/backend-aws: AWS Secrets Manager behind Keyway's `SecretBackend`. Managed mode names
 * secrets `<prefix>/<tenant or _>/<namespace segments>/<KEY>` and tags them `keyway:*`; read-only
 * mode maps existing secrets by those names, by tags, or by a flat name prefix. The AWS SDK is
 * imported on first use, with its retries off (Keyway's resolver retries).
 */
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import {
  assertNamespace,
  assertTenant,
  type BackendCapabilities,
  BackendUnavailableError,
  type GetManyResult,
  InvalidSecretValueError,
  isSecretsError,
  type SecretBackend,
  type SecretListing,
  type SecretRef,
  type SecretsError,
  validateRef,
} from "@keyway/core/backend";
import { createClient, credentialStrings, makeCall } from "./client.js";
import { mapAwsError } from "./errors.js";
import { locatorFor } from "./locator.js";
import { TAG_PREFIX, tagRecord, userTags } from "./names.js";
import type { AwsBackendOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { type Context, currentVersionId, listAll, readMany, readSecret, versionInput } from "./read.js";
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
export function createAwsBackend(options: AwsBackendOptions): SecretBackend {
  const settings = resolveOptions(options);
  const backend = settings.name;
  const injected = options.client;
  let client: Promise<SecretsManagerClient> | undefined;
  const getClient = () => {
    client ??= injected
      ? Promise.resolve(injected)
      : createClient(options, settings.requestTimeoutMs).catch((error: unknown) => {
          client = undefined; // a failed creation is tried again by the next call
          throw error;
        });
    return client;
  };
  const ctx: Context = {
    backend,
    call: makeCall(getClient),
    secrets: credentialStrings(options.credentials),
  };
  const locator = locatorFor(ctx, settings.prefix, settings.readOnly);
  const writable = settings.readOnly === undefined;

  const capabilities: BackendCapabilities = {
    write: writable,
    list: true,
    batch: locator.idOf !== undefined,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  };

  /** Errors of our own (not found in tags mode, bad version) pass through; SDK errors are mapped. */
  const mapped = (error: unknown, key?: string): SecretsError =>
    isSecretsError(error) ? error : mapAwsError(error, { backend, key, secrets: ctx.secrets });

  const get: SecretBackend["get"] = async (input, opts = {}) => {
    const ref = validateRef(input);
    versionInput(opts.version);
    try {
      return await readSecret(ctx, await locator.find(ref, opts.signal), ref.key, opts.version, opts.signal);
    } catch (error) {
      throw mapped(error, ref.key);
    }
  };

  const result: SecretBackend = {
    name: backend,
    capabilities,
    get,
    async list(namespace, opts = {}) {
      assertNamespace(namespace);
      assertTenant(opts.tenant);
      const [ns, tenant] = [namespace, opts.tenant];
      const entries = await listAll(ctx, locator.listFilters(ns, tenant), opts.signal);
      const listed = new Map<string, SecretListing>();
      for (const entry of entries) {
        const key = locator.keyOf(entry, ns, tenant);
        if (key === undefined || listed.has(key)) continue;
        const tags = userTags(tagRecord(entry.Tags));
        listed.set(key, {
          key,
          metadata: { description: entry.Description, tags, updatedAt: entry.LastChangedDate },
        });
      }
      return [...listed.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    /**
     * The VersionId holding AWSCURRENT, from DescribeSecret (one request; in tags mode a
     * ListSecrets first, as for `get`): the value is never fetched.
     */
    async probeVersion(input, opts = {}) {
      const ref = validateRef(input);
      try {
        return await currentVersionId(ctx, await locator.find(ref, opts.signal), ref.key, opts.signal);
      } catch (error) {
        throw mapped(error, ref.key);
      }
    },
    /** Loads the SDK, builds the client and resolves its credentials (an assumed role, SSO, IMDS). */
    async prepare() {
      try {
        const { config } = await getClient();
        if (typeof config?.credentials === "function") await config.credentials();
      } catch (error) {
        throw mapped(error);
      }
    },
    async close() {
      const created = injected ? undefined : client;
      client = undefined;
      (await created?.catch(() => undefined))?.destroy();
    },
  };

  const idOf = locator.idOf;
  if (idOf) {
    result.getMany = async (inputs, opts = {}) => {
      const out: GetManyResult = new Map();
      const valid: Array<{ ref: SecretRef; id: string }> = [];
      for (const input of inputs) {
        try {
          valid.push({ ref: input, id: idOf(validateRef(input)) });
        } catch (error) {
          out.set(input, mapped(error));
        }
      }
      // BatchGetSecretValue reads AWSCURRENT only: a version means one read per ref.
      const read: GetManyResult =
        opts.version === undefined
          ? await readMany(ctx, valid, opts.signal)
          : new Map(
              await Promise.all(
                valid.map(
                  async ({ ref }) =>
                    [ref, await get(ref, opts).catch((e: unknown) => mapped(e, ref.key))] as const,
                ),
              ),
            );
      for (const { ref } of valid)
        out.set(
          ref,
          read.get(ref) ?? new BackendUnavailableError(`No answer for secret '${ref.key}'.`, { backend }),
        );
      return out;
    };
  }

  if (writable) {
    result.put = async (input, value, metadata, opts = {}) => {
      const ref = validateRef(input);
      checkValue(value, backend);
      for (const key of Object.keys(metadata?.tags ?? {})) {
        if (key.startsWith(TAG_PREFIX)) {
          throw new InvalidSecretValueError(`Tag '${key}' is reserved: '${TAG_PREFIX}' tags are Keyway's.`, {
            backend,
          });
        }
      }
      await putSecret(ctx, settings, ref, value, metadata, opts.signal);
    };
    result.delete = async (input, opts = {}) => deleteSecret(ctx, settings, validateRef(input), opts.signal);
  }
  return result;
}

function checkValue(value: unknown, backend: string): asserts value is string | Uint8Array {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    throw new InvalidSecretValueError("A secret value must be a string or a Uint8Array.", { backend });
  }
  const size = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.byteLength;
  if (size > MAX_VALUE_BYTES) {
    throw new InvalidSecretValueError(
      `The value is ${size} bytes; AWS Secrets Manager stores at most ${MAX_VALUE_BYTES}.`,
      { backend },
    );
  }
}
