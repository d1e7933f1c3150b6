/**
 * @keyway/backend-gcp: Google Secret Manager. One secret per (prefix, tenant, namespace, key),
 * its id given by a reversible encoding (see names.ts); each `put` adds a version; `get` reads
 * `latest` or a given version. The Google SDK is imported on first use. What every backend does
 * (options, lazy client, reference and value checks, error wrapping) is defineBackend's.
 */
import { defineBackend, type SecretBackend } from "@keyway/core/backend";
import { createSecretManagerClient, type GcpCredentials, type GcpSecretManagerClient } from "./client.js";
import { gcpContext } from "./context.js";
import { type GcpOperation, mapGcpError } from "./errors.js";
import { gcpBackendSchema, renameTimeout } from "./options.js";
import { MAX_VALUE_BYTES } from "./payload.js";
import { currentVersion, listKeys, readValue } from "./read.js";
import { deleteSecret, writeValue } from "./write.js";

export type { GcpCredentials, GcpSecretManagerClient, GcpServiceAccountKey } from "./client.js";
export { decodeSecretId, encodeSecretId, namespaceLabel } from "./names.js";
export { MAX_VALUE_BYTES } from "./payload.js";

interface GcpBackendBaseOptions {
  /** The Google Cloud project id (or number) that holds the secrets. */
  project: string;
  /** Starts every secret id, so several deployments can share a project. @default "keyway" */
  prefix?: string | undefined;
  /** The backend's name in errors and stats. @default "gcp" */
  name?: string | undefined;
  /** Timeout of each call to Secret Manager, in milliseconds. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** @deprecated Use `requestTimeoutMs` (read with a one-time warning, KEYWAY_DEP_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
  /** Secrets per `ListSecrets` page. @default 250 */
  listPageSize?: number | undefined;
  /**
   * Whether `get` also reads the secret's annotations (one more call, in parallel) for the
   * encoding marker, description and tags. Without it (or when that call fails, e.g. a
   * `secretAccessor`-only identity), a value that is valid UTF-8 is returned as text, any other as bytes.
   * @default true
   */
  readSecretMetadata?: boolean | undefined;
  /** A configured client to use instead of creating one; `close()` leaves it open. @default undefined */
  client?: GcpSecretManagerClient | undefined;
}

/** Options of {@link createGcpBackend}: Google credentials, or an emulator (never both). */
export type GcpBackendOptions = GcpBackendBaseOptions &
  (
    | {
        /** How to authenticate. @default { type: "adc" } (Application Default Credentials) */
        credentials?: GcpCredentials | undefined;
        emulatorEndpoint?: undefined;
      }
    | {
        /**
         * `host:port` of a Secret Manager emulator, e.g. `"127.0.0.1:8085"`: plaintext gRPC and no
         * credentials. Only for tests; real endpoints always use TLS. @default undefined
         */
        emulatorEndpoint: string;
        credentials?: undefined;
      }
  );

/** The step each contract operation maps an unmapped SDK error as. */
const STEP: Record<string, GcpOperation> = {
  list: "list",
  probeVersion: "read-metadata",
  put: "write-value",
  delete: "delete",
};

/**
 * Creates a Google Secret Manager backend. Checks the options now; connects on first use.
 * @example
 * const backend = createGcpBackend({ project: "my-project" }); // Application Default Credentials
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "s3cr3t");
 * (await backend.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal(); // "s3cr3t"
 */
export const createGcpBackend: (options: GcpBackendOptions) => SecretBackend = defineBackend({
  vendor: "Google Secret Manager",
  defaultName: "gcp",
  options: gcpBackendSchema,
  normalize: renameTimeout,
  capabilities: () => ({
    write: true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  }),
  client: {
    create: (settings) => createSecretManagerClient(settings),
    // An injected client belongs to the caller; only the one created here is closed.
    injected: (settings) => settings.client,
    close: (client) => client.close(),
  },
  mapError: (error, { backend, key, operation, signal }, { secrets }) =>
    mapGcpError(error, { backend, key, operation: STEP[operation] ?? "access", secrets, signal }),
  operations: (kit) => {
    const ctx = gcpContext(kit);
    return {
      get: (ref, options) => readValue(ctx, ref, options),
      probeVersion: (ref, { signal }) => currentVersion(ctx, ref, signal),
      list: (namespace, options) => listKeys(ctx, namespace, options),
      put: (ref, value, metadata, { signal }) => writeValue(ctx, ref, value, metadata ?? {}, signal),
      delete: (ref, { signal }) => deleteSecret(ctx, ref, signal),
    };
  },
});
