/**
 * @keyway/backend-gcp: Google Secret Manager. One secret per (prefix, tenant, namespace, key),
 * its id given by a reversible encoding (see names.ts); each `put` adds a version; `get` reads
 * `latest` or a given version. The Google SDK is imported on first use.
 */
import {
  assertNamespace,
  assertTenant,
  type BackendCapabilities,
  InvalidReferenceError,
  type PutMetadata,
  type SecretBackend,
  SecretDisabledError,
  type SecretListing,
  type SecretRef,
  validateRef,
} from "@keyway/core/backend";
import type { CallOptions } from "google-gax";
import {
  type Annotations,
  annotationsFor,
  ENCODING,
  mergeAnnotations,
  metadataOf,
  sameAnnotations,
} from "./annotations.js";
import {
  callOptions,
  crc32c,
  createSecretManagerClient,
  type GcpCredentials,
  type GcpSecretManagerClient,
  withSignal,
} from "./client.js";
import { type GcpOperation, GrpcStatus, grpcCode, mapGcpError } from "./errors.js";
import { decodeSecretId, NAMESPACE_LABEL, namespaceLabel, secretIdFor } from "./names.js";
import { checkOptions } from "./options.js";
import { checksumMatches, encodePayload, MAX_VALUE_BYTES, payloadBytes, toSecretValue } from "./payload.js";

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

const VERSION = /^(latest|[1-9][0-9]{0,18}|[A-Za-z][A-Za-z0-9_-]{0,62})$/;

/**
 * Creates a Google Secret Manager backend. Checks the options now; connects on first use.
 * @example
 * const backend = createGcpBackend({ project: "my-project" }); // Application Default Credentials
 * await backend.put?.({ namespace: "company.team", key: "DB_PASSWORD" }, "s3cr3t");
 * (await backend.get({ namespace: "company.team", key: "DB_PASSWORD" })).reveal(); // "s3cr3t"
 */
export function createGcpBackend(options: GcpBackendOptions): SecretBackend {
  const name = options.name ?? "gcp";
  const config = checkOptions(options, name);
  const { prefix, timeoutMs } = config;
  const readMetadata = options.readSecretMetadata ?? true;
  const parent = `projects/${config.project}`;
  let client = options.client;
  let creating: Promise<GcpSecretManagerClient> | undefined;

  const getClient = async () => {
    if (client) return client;
    creating ??= createSecretManagerClient(config).catch((error: unknown) => {
      creating = undefined;
      throw error;
    });
    client = await creating;
    return client;
  };
  /** Runs one call with retries off, the timeout and the caller's signal; errors are the SDK's. */
  const send = async <T>(
    signal: AbortSignal | undefined,
    run: (c: GcpSecretManagerClient, o: CallOptions) => Promise<T>,
  ) => {
    const c = await getClient();
    return withSignal(() => run(c, callOptions(timeoutMs)), signal);
  };
  const fail = (error: unknown, operation: GcpOperation, key: string | undefined, signal?: AbortSignal) =>
    mapGcpError(error, { backend: name, key, operation, secrets: config.secrets, signal });
  const secretName = (ref: SecretRef) => `${parent}/secrets/${secretIdFor(prefix, ref, name)}`;

  const capabilities: BackendCapabilities = {
    write: true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: MAX_VALUE_BYTES,
  };

  return {
    name,
    capabilities,

    async get(input, { signal, version = "latest" } = {}) {
      const ref = validateRef(input);
      if (!VERSION.test(version))
        throw new InvalidReferenceError(`Invalid GCP secret version for '${ref.key}'.`, { backend: name });
      const secret = secretName(ref);
      const access = send(signal, (c, o) =>
        c.accessSecretVersion({ name: `${secret}/versions/${version}` }, o),
      );
      // Best effort: the value is right without it, so a failure here only loses the metadata.
      const annotations = readMetadata
        ? send(signal, (c, o) => c.getSecret({ name: secret }, o)).then(
            ([s]) => (s.annotations ?? {}) as Annotations,
            () => undefined,
          )
        : Promise.resolve(undefined);
      const [response] = await access.catch((error: unknown) => {
        throw fail(error, "access", ref.key, signal);
      });
      const bytes = payloadBytes(response.payload?.data);
      if (!checksumMatches(bytes, response.payload?.dataCrc32c)) {
        const corrupt = Object.assign(new Error("payload CRC32C mismatch"), { code: GrpcStatus.DATA_LOSS });
        throw fail(corrupt, "access", ref.key);
      }
      const found = await annotations;
      const read = response.name?.split("/versions/")[1];
      return toSecretValue(bytes, found?.[ENCODING] === "binary", {
        ...metadataOf(found ?? {}),
        version: read,
      });
    },

    /**
     * The version `latest` names now, from `getSecretVersion` (the version's metadata: the payload
     * is not accessed): `<number>@<create time>`, since a secret deleted and created again starts
     * over at version 1. A latest version that is not enabled is SecretDisabledError, as `get`
     * says when it cannot access it.
     */
    async probeVersion(input, { signal } = {}) {
      const ref = validateRef(input);
      const [version] = await send(signal, (c, o) =>
        c.getSecretVersion({ name: `${secretName(ref)}/versions/latest` }, o),
      ).catch((error: unknown) => {
        throw fail(error, "read-metadata", ref.key, signal);
      });
      const number = version.name?.split("/versions/")[1];
      if (number === undefined || number === "")
        throw fail(new Error("getSecretVersion answered without a version name"), "read-metadata", ref.key);
      const state = version.state;
      if (state !== undefined && state !== null && state !== "ENABLED" && state !== 1) {
        throw new SecretDisabledError(
          `Secret '${ref.key}' exists but its latest version is ${String(state).toLowerCase()}.`,
          {
            backend: name,
          },
        );
      }
      const created = version.createTime;
      return created?.seconds === undefined || created.seconds === null
        ? number
        : `${number}@${String(created.seconds)}.${String(created.nanos ?? 0).padStart(9, "0")}`;
    },

    async list(namespace, { tenant, signal } = {}) {
      assertNamespace(namespace);
      assertTenant(tenant);
      const filter = `labels.${NAMESPACE_LABEL}=${namespaceLabel(prefix, tenant, namespace)}`;
      const found = new Map<string, SecretListing>();
      const tokens = new Set<string>();
      let pageToken: string | undefined;
      do {
        const [secrets, , response] = await send(signal, (c, o) =>
          c.listSecrets(
            { parent, pageSize: config.listPageSize, pageToken, filter },
            { ...o, autoPaginate: false },
          ),
        ).catch((error: unknown) => {
          throw fail(error, "list", undefined, signal);
        });
        for (const secret of secrets) {
          // The id decides, whatever the server did with the filter.
          const decoded = decodeSecretId(secret.name?.slice(secret.name.lastIndexOf("/") + 1) ?? "");
          if (
            !decoded ||
            decoded.prefix !== prefix ||
            decoded.tenant !== tenant ||
            decoded.namespace !== namespace
          )
            continue;
          found.set(decoded.key, {
            key: decoded.key,
            metadata: metadataOf((secret.annotations ?? {}) as Annotations),
          });
        }
        pageToken = response?.nextPageToken || undefined;
        if (pageToken !== undefined && tokens.has(pageToken)) {
          throw fail(
            Object.assign(new Error("ListSecrets repeated a page token"), { code: GrpcStatus.INTERNAL }),
            "list",
            undefined,
          );
        }
        if (pageToken !== undefined) tokens.add(pageToken);
      } while (pageToken !== undefined);
      return [...found.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    async put(input, value, metadata = {}, { signal } = {}) {
      const ref = validateRef(input);
      const bytes = encodePayload(ref, value, name);
      const secret = secretName(ref);
      const wanted = annotationsFor(prefix, ref, metadata, typeof value !== "string", name);
      const labels = {
        [NAMESPACE_LABEL]: namespaceLabel(prefix, ref.tenant, ref.namespace),
        "managed-by": "keyway",
      };
      try {
        await send(signal, (c, o) =>
          c.createSecret(
            {
              parent,
              secretId: secret.slice(secret.lastIndexOf("/") + 1),
              secret: { replication: { automatic: {} }, labels, annotations: wanted },
            },
            o,
          ),
        );
      } catch (error) {
        if (grpcCode(error) !== GrpcStatus.ALREADY_EXISTS || signal?.aborted)
          throw fail(error, "write-metadata", undefined, signal);
        await updateAnnotations(secret, ref, metadata, wanted, labels, signal);
      }
      await send(signal, (c, o) =>
        c.addSecretVersion({ parent: secret, payload: { data: bytes, dataCrc32c: crc32c(bytes) } }, o),
      ).catch((error: unknown) => {
        throw fail(error, "write-value", ref.key, signal);
      });
    },

    async delete(input, { signal } = {}) {
      const ref = validateRef(input);
      const secret = secretName(ref);
      await send(signal, (c, o) => c.deleteSecret({ name: secret }, o)).catch((error: unknown) => {
        throw fail(error, "delete", ref.key, signal);
      });
    },

    /** Loads the SDK and builds the client (gRPC connects on the first call). */
    async prepare() {
      await getClient().catch((error: unknown) => {
        throw fail(error, "access", undefined);
      });
    },

    async close() {
      // An injected client belongs to the caller; only the one created here is closed.
      if (options.client || !creating) return;
      const created = await creating.catch(() => undefined);
      creating = undefined;
      client = undefined;
      await created?.close();
    },
  };

  /** Merges our annotations into an existing secret's, writing only when something changes. */
  async function updateAnnotations(
    secret: string,
    ref: SecretRef,
    metadata: PutMetadata,
    wanted: Annotations,
    labels: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    try {
      const [current] = await send(signal, (c, o) => c.getSecret({ name: secret }, o));
      const before = (current.annotations ?? {}) as Annotations;
      const after = mergeAnnotations(before, wanted, metadata);
      const currentLabels = current.labels ?? {};
      const labelsChange = Object.entries(labels).some(([k, v]) => currentLabels[k] !== v);
      if (sameAnnotations(before, after) && !labelsChange) return;
      await send(signal, (c, o) =>
        c.updateSecret(
          {
            // The etag makes a concurrent update fail (ABORTED → unavailable) instead of losing one.
            secret: {
              name: secret,
              annotations: after,
              labels: { ...currentLabels, ...labels },
              etag: current.etag ?? "",
            },
            updateMask: { paths: labelsChange ? ["annotations", "labels"] : ["annotations"] },
          },
          o,
        ),
      );
    } catch (error) {
      throw fail(error, "write-metadata", ref.key, signal);
    }
  }
}
