/**
 * @keyway/backend-vault: HashiCorp Vault / OpenBao KV (v2 by default, or v1) through node-vault.
 * Managed mode stores each secret at `<mount>/<prefix>/<tenant or _>/<namespace…>/<KEY>` as
 * `{ "value": "…" }`; read-only mode (`readOnlyPath`) reads any path as one JSON secret whose
 * fields are sub-keys. Auth: token, AppRole, userpass, Kubernetes, with re-login before expiry.
 */
import {
  assertNamespace,
  assertTenant,
  type BackendCapabilities,
  BackendUnavailableError,
  ConfigurationError,
  type GetManyResult,
  type GetOptions,
  InvalidReferenceError,
  InvalidSecretValueError,
  isSecretsError,
  type PutMetadata,
  ReadOnlyError,
  type SecretBackend,
  type SecretRef,
  type SecretValue,
  validateRef,
  type WriteOptions,
} from "@keyway/core/backend";
import { type VaultAuth, VaultSession } from "./auth.js";
import { createVaultClient, type VaultClient } from "./client.js";
import { mapVaultError, vaultStatus } from "./errors.js";
import { mapLimit } from "./limit.js";
import { resolveOptions } from "./options.js";
import { type Call, createStore } from "./store.js";

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
export function createVaultBackend(options: VaultBackendOptions = {}): VaultBackend {
  const o = resolveOptions(options);
  const { name } = o;
  let connection: Promise<{ client: VaultClient; session: VaultSession }> | undefined;
  const connect = () => {
    connection ??= (async () => {
      const staticToken = o.auth?.method === "token" ? o.auth.token : undefined;
      const client =
        options.client ??
        (await createVaultClient({
          endpoint: o.endpoint,
          namespace: o.namespace,
          token: staticToken,
          timeoutMs: o.timeoutMs,
          caCert: o.caCert,
        }));
      if (options.client && staticToken) client.token = staticToken;
      return { client, session: new VaultSession(client, o.auth, name) };
    })().catch((error: unknown) => {
      connection = undefined;
      throw isSecretsError(error)
        ? error
        : new ConfigurationError("node-vault could not be loaded.", { backend: name, cause: error });
    });
    return connection;
  };

  /**
   * Runs one node-vault call: aborts with `signal`, logs in first when needed, maps errors, and
   * after a 403 on an expired or revoked login token logs in again and retries once.
   */
  const call: Call = async (ctx, signal, fn) => {
    const { client, session } = await connect();
    const map = (error: unknown) =>
      mapVaultError(error, {
        ...session.context(ctx.operation, ctx.path),
        key: ctx.key,
        secrets: [...session.secrets(), ...(ctx.sensitive ?? [])],
      });
    const attempt = () => abortable(fn(client, { signal }), signal);
    try {
      await session.ensure(signal);
      const tokenUsed = client.token;
      try {
        return await attempt();
      } catch (error) {
        if (vaultStatus(error) !== 403) throw error;
        if (!(await session.recover(tokenUsed, signal))) throw error;
        return await attempt();
      }
    } catch (error) {
      throw map(error);
    }
  };

  const store = createStore(o, call);
  const capabilities: BackendCapabilities = {
    write: !o.readOnly,
    list: true,
    batch: false,
    versions: o.kvVersion === 2,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  };

  const get = async (input: SecretRef, opts?: GetOptions): Promise<SecretValue> => {
    const ref = validateRef(input);
    return store.read(ref, parseVersion(opts?.version, o.kvVersion, name), opts?.signal);
  };

  const checkWrite = (input: SecretRef, value: string | Uint8Array): SecretRef => {
    if (o.readOnly)
      throw new ReadOnlyError(`Vault backend '${name}' is read-only (readOnlyPath).`, { backend: name });
    const ref = validateRef(input);
    const isText = typeof value === "string";
    if (!isText && !(value instanceof Uint8Array)) {
      throw new InvalidSecretValueError(`Secret '${ref.key}' must be a string or a Uint8Array.`, {
        backend: name,
      });
    }
    const size = isText ? Buffer.byteLength(value, "utf8") : value.byteLength;
    if (size > MAX_VALUE_BYTES) {
      throw new InvalidSecretValueError(
        `Secret '${ref.key}' is ${size} bytes; Vault backend '${name}' stores at most ${MAX_VALUE_BYTES}.`,
        { backend: name },
      );
    }
    if (isText && LONE_SURROGATE.test(value)) {
      throw new InvalidSecretValueError(
        `Secret '${ref.key}' is not well-formed Unicode (a lone surrogate).`,
        { backend: name },
      );
    }
    return ref;
  };

  const backend: VaultBackend = {
    name,
    capabilities,
    get,
    async getMany(refs, opts) {
      const result: GetManyResult = new Map();
      const values = await mapLimit(refs, o.concurrency, (ref) =>
        get(ref, opts).catch((e: unknown) => asSecretsError(e, name)),
      );
      for (const [i, ref] of refs.entries()) result.set(ref, values[i] as SecretValue);
      return result;
    },
    async list(namespace, opts) {
      assertNamespace(namespace);
      assertTenant(opts?.tenant);
      return store.list(namespace, opts?.tenant, opts?.signal);
    },
    async putWithCas(input, value, version, metadata, opts) {
      const ref = checkWrite(input, value);
      if (o.kvVersion !== 2)
        throw new ConfigurationError("Check-and-set needs KV v2 (kvVersion: 2).", { backend: name });
      if (!Number.isSafeInteger(version) || version < 0) {
        throw new ConfigurationError("The check-and-set version must be an integer >= 0.", { backend: name });
      }
      await store.write(ref, value, metadata, version, opts?.signal);
    },
    /** Loads node-vault, builds the client and, for a login method, logs in (a token is not checked). */
    async prepare({ signal } = {}) {
      const { session } = await connect();
      await session.ensure(signal);
    },
    async close() {
      connection = undefined;
    },
  };
  // KV v1 keeps no versions, and its only read is the value: no probe, so `router.watch` falls
  // back to reading the value and comparing it in memory (see watch.ts in @keyway/core).
  if (o.kvVersion === 2)
    backend.probeVersion = async (input, opts) => store.version(validateRef(input), opts?.signal);
  if (!o.readOnly) {
    backend.put = async (input, value, metadata, opts) =>
      store.write(checkWrite(input, value), value, metadata, undefined, opts?.signal);
    backend.delete = async (input, opts) => store.remove(validateRef(input), opts?.signal);
  }
  return backend;
}

/** Races `promise` with `signal`, so an injected client (whose transport ignores it) still stops waiting. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(Object.assign(new Error("The Vault request was aborted."), { code: "ABORT_ERR" }));
    // Settle through `promise` first, so its own rejection is always handled.
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

function parseVersion(version: string | undefined, kvVersion: 1 | 2, backend: string): number | undefined {
  if (version === undefined) return undefined;
  if (kvVersion === 1)
    throw new ConfigurationError("KV v1 keeps no versions: read without 'version'.", { backend });
  if (!/^[1-9]\d{0,15}$/.test(version)) {
    throw new InvalidReferenceError("A Vault KV v2 version is a positive integer.", { backend });
  }
  return Number(version);
}

function asSecretsError(error: unknown, backend: string) {
  return isSecretsError(error)
    ? error
    : new BackendUnavailableError("The Vault read failed.", { backend, cause: error });
}
