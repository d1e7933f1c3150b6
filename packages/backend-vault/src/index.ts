/**
 * @keyway/backend-vault: HashiCorp Vault / OpenBao KV (v2 by default, or v1) through node-vault.
 * Managed mode stores each secret at `<mount>/<prefix>/<tenant or _>/<namespace…>/<KEY>` as
 * `{ "value": "…" }`; read-only mode (`readOnlyPath`) reads any path as one JSON secret whose
 * fields are sub-keys. Auth: token, AppRole, userpass, Kubernetes, with re-login before expiry.
 * What every backend does (options, lazy client, reference and value checks, error wrapping) is
 * defineBackend's; read.ts and write.ts hold the KV requests.
 */
import {
  type BackendOperations,
  BackendUnavailableError,
  ConfigurationError,
  defineBackend,
  type GetManyResult,
  type PutMetadata,
  ReadOnlyError,
  type SecretBackend,
  type SecretRef,
  validateRef,
  type WriteOptions,
} from "@keyway/core/backend";
import { connect, makeCall } from "./connection.js";
import { parseVersion, wellFormed } from "./kv.js";
import { mapLimit } from "./limit.js";
import { renameTimeout, type VaultBackendOptions, vaultBackendSchema } from "./options.js";
import { currentVersion, listKeys, readValue } from "./read.js";
import { removeSecret, writeValue } from "./write.js";

export type { VaultAuth } from "./auth.js";
export type { VaultClient } from "./client.js";
export { CheckAndSetConflictError } from "./errors.js";
export type { VaultBackendOptions } from "./options.js";

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
    const kv = { settings: o, call: makeCall(client) };
    const ops: BackendOperations & Pick<VaultBackend, "putWithCas"> = {
      get: (ref, opts) => readValue(kv, ref, parseVersion(opts.version, o.kvVersion, name), opts.signal),
      getMany: async (refs, opts) => {
        const values = await mapLimit(refs, o.concurrency, (ref) =>
          ops.get(ref, opts).catch((error: unknown) => fail(error, { operation: "get", key: ref.key })),
        );
        const result: GetManyResult = new Map();
        for (const [i, ref] of refs.entries()) if (values[i]) result.set(ref, values[i]);
        return result;
      },
      list: (namespace, opts) => listKeys(kv, namespace, opts.tenant, opts.signal),
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
        wellFormed(ref, checkValue(value), name);
        await writeValue(kv, ref, value, metadata, version, opts?.signal);
      },
    };
    // KV v1 keeps no versions, and its only read is the value: no probe, so `router.watch` falls
    // back to reading the value and comparing it in memory (see watch.ts in @keyway/core).
    if (o.kvVersion === 2) ops.probeVersion = (ref, opts) => currentVersion(kv, ref, opts.signal);
    if (!o.readOnly) {
      ops.put = async (ref, value, metadata, opts) => {
        wellFormed(ref, value, name);
        await writeValue(kv, ref, value, metadata, undefined, opts.signal);
      };
      ops.delete = (ref, opts) => removeSecret(kv, ref, opts.signal);
    }
    return ops;
  },
  extras: (ops) => ({ putWithCas: ops.putWithCas }),
});
