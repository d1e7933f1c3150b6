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
  type SecretBackend,
  type SecretListing,
  validateRef,
} from "@keyway/core";
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
import { decodeMetadata, decodeValue, encodeTags, encodeValue, MAX_VALUE_BYTES } from "./values.js";

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
  /** On `put` to a name that is soft-deleted, purge it instead of recovering it (old versions are lost). @default false */
  purgeOnConflict?: boolean | undefined;
  /** Purge after `delete`, so the name is free at once and nothing is recoverable. @default false */
  purgeOnDelete?: boolean | undefined;
  /** Tags written on every `put`, under the caller's own. @default {} */
  tags?: Readonly<Record<string, string>> | undefined;
  /** The backend's name in errors and stats. @default "azure" */
  name?: string | undefined;
}

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
  const sdkOptions = (signal: AbortSignal | undefined) => ({
    abortSignal: signal,
    requestOptions: { timeout: settings.timeoutMs },
  });

  /** Polls an SDK poller until it is done; unlike `pollUntilDone`, the wait honours `signal`. */
  async function settle(
    poller: { isDone(): boolean; poll(o?: object): Promise<void> },
    signal?: AbortSignal,
  ) {
    while (!poller.isDone()) {
      await sleep(settings.pollIntervalMs, signal);
      await poller.poll({ abortSignal: signal });
    }
  }

  /** Frees a soft-deleted name for a write: recovers it (default) or purges it. */
  async function reclaim(c: AzureSecretClient, secret: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await c.getDeletedSecret(secret, sdkOptions(signal));
    } catch (error) {
      if (statusOf(error) === 404) return false; // the 409 meant something else
      throw error;
    }
    if (settings.purgeOnConflict) await c.purgeDeletedSecret(secret, sdkOptions(signal));
    else await settle(await c.beginRecoverDeletedSecret(secret, sdkOptions(signal)), signal);
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
          try {
            await set(c);
            return;
          } catch (error) {
            if (!isDeletedConflict(error) || !(await reclaim(c, secret, signal))) throw error;
          }
          // A purge (or recovery) completes asynchronously in Azure: the name stays taken for a while.
          for (let attempt = 1; ; attempt++) {
            try {
              await set(c);
              return;
            } catch (error) {
              if (!isDeletedConflict(error) || attempt >= DELETED_RECOVERY_ATTEMPTS) throw error;
              await sleep(settings.pollIntervalMs, signal);
            }
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
        await settle(poller, signal);
        // No recoveryId: the vault has no soft delete, so there is nothing to purge.
        if (settings.purgeOnDelete && poller.getResult()?.recoveryId) {
          await c.purgeDeletedSecret(secret, sdkOptions(signal));
        }
      });
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

/** Resolves after `ms`; rejects with an AbortError as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const abortError = () => Object.assign(new Error("The operation was aborted."), { name: "AbortError" });
    if (signal?.aborted) return reject(abortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
