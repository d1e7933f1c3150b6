/**
 * @keyway/backend-vault: HashiCorp Vault / OpenBao KV (v2 by default, or v1) through node-vault.
 * Managed mode stores each secret at `<mount>/<prefix>/<tenant or _>/<namespace…>/<KEY>` as
 * `{ "value": "…" }`; read-only mode (`readOnlyPath`) reads any path as one JSON secret whose
 * fields are sub-keys. Auth: token, AppRole, userpass, Kubernetes, with re-login before expiry.
 * What every backend does (options, lazy client, reference and value checks, error wrapping) is
 * defineBackend's; the store (store.ts) reads and writes.
 */
import {
  type BackendOperations,
  BackendUnavailableError,
  ConfigurationError,
  defineBackend,
  type GetManyResult,
  InvalidReferenceError,
  InvalidSecretValueError,
  type PutMetadata,
  ReadOnlyError,
  type SecretBackend,
  type SecretRef,
  validateRef,
  type WriteOptions,
} from "@keyway/core/backend";
import type { VaultAuth } from "./auth.js";
import type { VaultClient } from "./client.js";
import { connect, makeCall } from "./connection.js";
import { mapLimit } from "./limit.js";
import { renameTimeout, vaultBackendSchema } from "./options.js";
import { createStore } from "./store.js";

export type { VaultAuth } from "./auth.js";
export type { VaultClient } from "./client.js";
export { CheckAndSetConflictError } from "./errors.js";

/** Options of {@link createVaultBackend}. */
export interface VaultBackendOptions {
  /** Vault's address. @default the VAULT_ADDR environment variable, else "http://127.0.0.1:8200" */
  endpoint?: string | undefined;
  /** How to authenticate. @default { method: "token" } with the VAULT_TOKEN environment variable */
  auth?: VaultAuth | undefined;
  /** Where the KV secrets engine is mounted. @default "secret" */
  mount?: string | undefined;
  /** The KV engine's version: 2 keeps versions and custom metadata; 1 keeps neither. @default 2 */
  kvVersion?: 1 | 2 | undefined;
  /** Path below the mount under which managed secrets live (several deployments can share a mount). @default "keyway" */
  prefix?: string | undefined;
  /**
   * Selects the read-only mode: secrets are read at `<mount>/<readOnlyPath>/<namespace…>/<key>`
   * (a `{tenant}` segment takes the ref's tenant), each path's whole data object is the value (as
   * JSON, so `secret('api', subkey='TOKEN')` works), and nothing is ever written.
   * Excludes `prefix`. @default undefined (managed mode)
   */
  readOnlyPath?: string | undefined;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. @default the VAULT_NAMESPACE environment variable */
  namespace?: string | undefined;
  /** Per-request timeout in milliseconds (the resolver's own deadline also aborts requests). @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** @deprecated Use `requestTimeoutMs` (read with a one-time warning, KEYWAY_DEP_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
  /** Requests in flight at once for `getMany` and the metadata reads of `list`. @default 8 */
  concurrency?: number | undefined;
  /** Extra CA certificates (PEM) to trust for an https endpoint. @default Node's bundled CAs only */
  caCert?: string | undefined;
  /** The backend's name in errors and stats. @default "vault" */
  name?: string | undefined;
  /** Where VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE are read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * A node-vault client to use instead of creating one (its transport, TLS and token are yours;
   * an `auth` login sets its token). Keyway's AbortSignal then only stops waiting for the answer.
   * @default a client created on first use
   */
  client?: VaultClient | undefined;
}

/** The Vault backend: a {@link SecretBackend} plus check-and-set writes. */
export interface VaultBackend extends SecretBackend {
  /**
   * Writes `value` only if the secret's current version is `version` (0: only if it does not
   * exist yet). KV v2 managed mode only.
   * @throws CheckAndSetConflictError when another write came first.
   */
  putWithCas(
    ref: SecretRef,
    value: string | Uint8Array,
    version: number,
    metadata?: PutMetadata,
    options?: WriteOptions,
  ): Promise<void>;
}

/** The largest value stored, in bytes (binary values are stored base64: 4/3 of this). */
export const MAX_VALUE_BYTES = 512 * 1024;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Creates the Vault backend. Options are checked now; node-vault is loaded, and the login made,
 * on the first call.
 * @example
 * const vault = createVaultBackend({
 *   endpoint: "https://vault.example.com:8200",
 *   auth: { method: "approle", roleId: process.env.ROLE_ID!, secretId: process.env.SECRET_ID! },
 * });
 * (await vault.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal();
 * // reads secret/data/keyway/_/company/team/DB_PASSWORD, field "value"
 */
export const createVaultBackend: (options?: VaultBackendOptions) => VaultBackend = defineBackend({
  vendor: "Vault",
  defaultName: "vault",
  options: vaultBackendSchema,
  normalize: renameTimeout,
  capabilities: (o) => ({
    write: !o.readOnly,
    list: true,
    batch: false,
    versions: o.kvVersion === 2,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  }),
  client: { create: connect },
  // Every request is mapped where it is sent (connection.ts); what is left failed in between.
  mapError: (error, { backend }) =>
    new BackendUnavailableError("The Vault request failed.", { backend, cause: error }),
  operations: ({ name, settings: o, client, fail, checkValue }) => {
    const store = createStore(o, makeCall(client));
    const wellFormed = (ref: SecretRef, value: string | Uint8Array) => {
      if (typeof value === "string" && LONE_SURROGATE.test(value))
        throw new InvalidSecretValueError(
          `Secret '${ref.key}' is not well-formed Unicode (a lone surrogate).`,
          {
            backend: name,
          },
        );
    };
    const ops: BackendOperations & Pick<VaultBackend, "putWithCas"> = {
      get: (ref, opts) => store.read(ref, parseVersion(opts.version, o.kvVersion, name), opts.signal),
      getMany: async (refs, opts) => {
        const values = await mapLimit(refs, o.concurrency, (ref) =>
          ops.get(ref, opts).catch((error: unknown) => fail(error, { operation: "get", key: ref.key })),
        );
        const result: GetManyResult = new Map();
        for (const [i, ref] of refs.entries()) if (values[i]) result.set(ref, values[i]);
        return result;
      },
      list: (namespace, opts) => store.list(namespace, opts.tenant, opts.signal),
      /** Loads node-vault, builds the client and, for a login method, logs in (a token is not checked). */
      prepare: async ({ signal }) => (await client()).session.ensure(signal),
      async putWithCas(input, value, version, metadata, opts) {
        if (o.readOnly)
          throw new ReadOnlyError(`Vault backend '${name}' is read-only (readOnlyPath).`, { backend: name });
        if (o.kvVersion !== 2)
          throw new ConfigurationError("Check-and-set needs KV v2 (kvVersion: 2).", { backend: name });
        if (!Number.isSafeInteger(version) || version < 0)
          throw new ConfigurationError("The check-and-set version must be an integer >= 0.", {
            backend: name,
          });
        // The checks `put` gets from the kit, then this backend's own.
        const ref = validateRef(input);
        wellFormed(ref, checkValue(value));
        await store.write(ref, value, metadata, version, opts?.signal);
      },
    };
    // KV v1 keeps no versions, and its only read is the value: no probe, so `router.watch` falls
    // back to reading the value and comparing it in memory (see watch.ts in @keyway/core).
    if (o.kvVersion === 2) ops.probeVersion = (ref, opts) => store.version(ref, opts.signal);
    if (!o.readOnly) {
      ops.put = async (ref, value, metadata, opts) => {
        wellFormed(ref, value);
        await store.write(ref, value, metadata, undefined, opts.signal);
      };
      ops.delete = (ref, opts) => store.remove(ref, opts.signal);
    }
    return ops;
  },
  extras: (ops) => ({ putWithCas: ops.putWithCas }),
});

function parseVersion(version: string | undefined, kvVersion: 1 | 2, backend: string): number | undefined {
  if (version === undefined) return undefined;
  if (kvVersion === 1)
    throw new ConfigurationError("KV v1 keeps no versions: read without 'version'.", { backend });
  if (!/^[1-9]\d{0,15}$/.test(version)) {
    throw new InvalidReferenceError("A Vault KV v2 version is a positive integer.", { backend });
  }
  return Number(version);
}
