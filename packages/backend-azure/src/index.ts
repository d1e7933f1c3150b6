/**
 * @keyway/backend-azure: Azure Key Vault secrets behind Keyway's one interface. Each ref maps to
 * one secret whose name encodes prefix, tenant, namespace and key (reversibly, case included:
 * see names.ts); values are text, or bytes stored as base64. The Azure SDK is loaded on first use.
 */
import type { TokenCredential } from "@azure/identity";
import {
  assertNamespace,
  assertTenant,
  type BackendCapabilities,
  BackendUnavailableError,
  type SecretBackend,
  type SecretListing,
  validateRef,
} from "@keyway/core/backend";
import {
  type AzureCredentialOptions,
  type AzureSecretClient,
  type ClientSettings,
  createSecretClient,
  credentialSecrets,
} from "./client.js";
import { isDeletedConflict, mapAzureError, type Operation, statusOf } from "./errors.js";
import { decodeName, namespacePrefix, secretName } from "./names.js";
import { checkOptions } from "./options.js";
import { type PurgeOption, purgeDeleted } from "./soft-delete.js";
import {
  checkUsable,
  decodeMetadata,
  decodeValue,
  encodeTags,
  encodeValue,
  MAX_VALUE_BYTES,
} from "./values.js";
import { settle, sleep } from "./wait.js";

export type { AzureCredentialOptions, AzureSecretClient } from "./client.js";
export { decodeName, encodeName, MAX_NAME_LENGTH } from "./names.js";
export { BINARY_CONTENT_TYPE, MAX_BINARY_BYTES, MAX_VALUE_BYTES, TAGS } from "./values.js";

/** Options of {@link createAzureBackend}. */
export interface AzureBackendOptions {
  /** The vault, e.g. `https://my-vault.vault.azure.net`. Required unless `client` is given. */
  vaultUrl?: string | undefined;
  /**
   * How to authenticate: one of the modes, or any `TokenCredential` object (in code).
   * @default { type: "default" } (DefaultAzureCredential)
   */
  credential?: AzureCredentialOptions | TokenCredential | undefined;
  /**
   * First part of every secret name, so several deployments can share one vault; 1-64 characters
   * of `A-Z a-z 0-9 _ . -`.
   * @default "keyway"
   */
  prefix?: string | undefined;
  /** A configured `SecretClient` to use instead of building one (then `vaultUrl`, `credential`, `ca` are unused). */
  client?: AzureSecretClient | undefined;
  /**
   * PEM certificate(s) of a private CA or an emulator to trust for this client only, in addition to
   * Node's bundled roots. Certificate checks are never turned off.
   * @default none
   */
  ca?: string | readonly string[] | undefined;
  /**
   * Skip the check that the token challenge's resource matches the vault's host. Only for
   * emulators such as Lowkey Vault, whose challenge names another resource.
   * @default false
   */
  disableChallengeResourceVerification?: boolean | undefined;
  /** The Key Vault REST API version. @default the SDK's latest */
  serviceVersion?: ClientSettings["serviceVersion"] | undefined;
  /** Timeout of each HTTP request, in milliseconds. @default 10000 */
  timeoutMs?: number | undefined;
  /** Wait between polls of a delete, recover or purge in progress, in milliseconds. @default 1000 */
  pollIntervalMs?: number | undefined;
  /**
   * On `put` to a name that is soft-deleted, purge it instead of recovering it (old versions are
   * lost). A vault with purge protection refuses: ConfigurationError, nothing changed.
   * @default false
   */
  purgeOnConflict?: boolean | undefined;
  /**
   * Purge after `delete`, so the name is free at once and nothing is recoverable. A vault with
   * purge protection refuses: the secret stays soft-deleted and `delete` fails with ConfigurationError.
   * @default false
   */
  purgeOnDelete?: boolean | undefined;
  /** Tags written on every `put`, under the caller's own. @default {} */
  tags?: Readonly<Record<string, string>> | undefined;
  /** The backend's name in errors and stats. @default "azure" */
  name?: string | undefined;
}

/** Writes tried while a soft-deleted name is being deleted, recovered or purged (one poll interval apart). */
const DELETED_RECOVERY_ATTEMPTS = 30;

/**
 * Creates the Azure Key Vault backend. Checks options now; connects on first use.
 * @example
 * const backend = createAzureBackend({
 *   vaultUrl: "https://my-vault.vault.azure.net",
 *   credential: { type: "managedIdentity" },
 * });
 * (await backend.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal();
 */
export function createAzureBackend(options: AzureBackendOptions): SecretBackend {
  const settings = checkOptions(options);
  const { name, prefix } = settings;
  const secrets = credentialSecrets(settings.credential);
  let client: AzureSecretClient | undefined = options.client;
  let creating: Promise<AzureSecretClient> | undefined;

  const capabilities: BackendCapabilities = {
    write: true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  };

  /** Runs one SDK call on the (lazily created) client and maps whatever it throws. */
  async function call<T>(
    operation: Operation,
    key: string | undefined,
    run: (c: AzureSecretClient) => Promise<T>,
    extraSecrets: readonly string[] = [],
  ): Promise<T> {
    try {
      if (!client) {
        // A failed creation (e.g. the SDK cannot load) is not cached: the next call tries again.
        creating ??= createSecretClient(settings).catch((error: unknown) => {
          creating = undefined;
          throw error;
        });
        client = await creating;
      }
      return await run(client);
    } catch (error) {
      throw mapAzureError(error, { backend: name, operation, key, secrets: [...secrets, ...extraSecrets] });
    }
  }
  const waitFor = (signal: AbortSignal | undefined) => ({
    backend: name,
    pollIntervalMs: settings.pollIntervalMs,
    signal,
  });
  const sdkOptions = (signal: AbortSignal | undefined) => ({
    abortSignal: signal,
    requestOptions: { timeout: settings.timeoutMs },
  });

  /** Purges a soft-deleted secret unless its recovery level says purge protection is on. */
  const purge = (
    c: AzureSecretClient,
    secret: string,
    key: string,
    option: PurgeOption,
    recoveryLevel: string | undefined,
    signal: AbortSignal | undefined,
  ) =>
    purgeDeleted(
      c,
      secret,
      { backend: name, key, option, recoveryLevel, pollIntervalMs: settings.pollIntervalMs },
      sdkOptions(signal),
    );

  /**
   * Frees a soft-deleted name for a write: recovers it (default) or purges it. False while the
   * deleted secret cannot be read yet (404: a delete still in progress, or a 409 for another reason).
   */
  async function reclaim(
    c: AzureSecretClient,
    secret: string,
    key: string,
    signal?: AbortSignal,
  ): Promise<boolean> {
    let deleted: Awaited<ReturnType<AzureSecretClient["getDeletedSecret"]>>;
    try {
      deleted = await c.getDeletedSecret(secret, sdkOptions(signal));
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
    if (settings.purgeOnConflict) {
      await purge(c, secret, key, "purgeOnConflict", deleted.properties?.recoveryLevel, signal);
    } else {
      await settle(
        await c.beginRecoverDeletedSecret(secret, sdkOptions(signal)),
        "a recovery",
        waitFor(signal),
      );
    }
    return true;
  }

  return {
    name,
    capabilities,
    async get(input, getOptions = {}) {
      const ref = validateRef(input);
      const version = settings.checkVersion(getOptions.version);
      const secret = secretName(prefix, ref, name);
      const found = await call("get", ref.key, (c) =>
        c.getSecret(secret, { ...sdkOptions(getOptions.signal), version }),
      );
      return decodeValue(found, ref.key, name);
    },

    async list(namespace, listOptions = {}) {
      assertNamespace(namespace);
      assertTenant(listOptions.tenant);
      const start = namespacePrefix(prefix, namespace, listOptions.tenant);
      const listed = await call("list", undefined, async (c) => {
        const found: SecretListing[] = [];
        for await (const properties of c.listPropertiesOfSecrets(sdkOptions(listOptions.signal))) {
          if (!properties.name.toLowerCase().startsWith(start)) continue;
          const decoded = decodeName(properties.name);
          // The prefix match already implies these; checked again so a decoding slip cannot leak across.
          if (
            decoded?.prefix !== prefix ||
            decoded.namespace !== namespace ||
            decoded.tenant !== listOptions.tenant
          ) {
            continue;
          }
          found.push({ key: decoded.key, metadata: decodeMetadata(properties) });
        }
        return found;
      });
      return listed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async put(input, value, metadata = {}, writeOptions = {}) {
      const ref = validateRef(input);
      const secret = secretName(prefix, ref, name);
      const { text, contentType } = encodeValue(value, ref.key, name);
      const tags = encodeTags({ prefix, ...ref }, metadata, settings.tags, name);
      const signal = writeOptions.signal;
      const set = (c: AzureSecretClient) =>
        c.setSecret(secret, text, { ...sdkOptions(signal), contentType, tags });
      await call(
        "put",
        ref.key,
        async (c) => {
          let reclaimed = false;
          for (let attempt = 1; ; attempt++) {
            try {
              await set(c);
              return;
            } catch (error) {
              if (!isDeletedConflict(error) || attempt >= DELETED_RECOVERY_ATTEMPTS) throw error;
            }
            // Reclaim the name once its deleted secret can be read; then try again at once.
            if (!reclaimed && (await reclaim(c, secret, ref.key, signal))) {
              reclaimed = true;
              continue;
            }
            // A delete, purge or recovery completes asynchronously: the name stays taken for a while.
            await sleep(settings.pollIntervalMs, signal);
          }
        },
        [text],
      );
    },

    async delete(input, writeOptions = {}) {
      const ref = validateRef(input);
      const secret = secretName(prefix, ref, name);
      const signal = writeOptions.signal;
      await call("delete", ref.key, async (c) => {
        const poller = await c.beginDeleteSecret(secret, sdkOptions(signal));
        await settle(poller, "a delete", waitFor(signal));
        const deleted = poller.getResult();
        // No recoveryId: the vault has no soft delete, so there is nothing to purge.
        if (settings.purgeOnDelete && deleted?.recoveryId) {
          await purge(c, secret, ref.key, "purgeOnDelete", deleted.properties?.recoveryLevel, signal);
        }
      });
    },

    /**
     * The current version id. Key Vault has no metadata-only read of a secret's current version:
     * `GET secrets/{name}` returns the value with it, and the versions list (properties only) has
     * no "current" mark and `created` times of one-second resolution, so two writes in one second
     * could not be told apart (and it is one request per 25 versions). So this is `getSecret`, whose
     * value is dropped unread; errors map as in `get` (disabled, expired, not yet valid, not found).
     */
    async probeVersion(input, probeOptions = {}) {
      const ref = validateRef(input);
      const secret = secretName(prefix, ref, name);
      const { properties } = await call("get", ref.key, (c) =>
        c.getSecret(secret, sdkOptions(probeOptions.signal)),
      );
      checkUsable(properties, ref.key, name);
      if (!properties.version) {
        throw new BackendUnavailableError(`Azure Key Vault returned no version id for secret '${ref.key}'.`, {
          backend: name,
        });
      }
      return properties.version;
    },

    /** Loads the SDK and builds the client (the credential gets its token on the first call). */
    async prepare() {
      await call("get", undefined, async () => undefined);
    },

    async close() {
      // The SDK client holds no timers; pooled sockets close when idle.
      client = options.client;
      creating = undefined;
    },
  };
}
