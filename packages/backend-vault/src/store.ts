/**
 * The KV operations behind the backend: which API paths each one calls, in which order, and how
 * the answers become values and listings. Errors are mapped by `call` (index.ts).
 */
import {
  BackendUnavailableError,
  type PutMetadata,
  SecretDisabledError,
  type SecretListing,
  type SecretMetadata,
  SecretNotFoundError,
  type SecretRef,
  type SecretValue,
} from "@keyway/core/backend";
import type { VaultClient } from "./client.js";
import { isPlain404 } from "./errors.js";
import {
  dataPath,
  decodeValue,
  decodeWhole,
  encodeCustomMetadata,
  encodeData,
  listPath,
  metadataFromCustom,
  metadataFromV1,
  metadataPath,
  withV1Metadata,
} from "./kv.js";
import { mapLimit } from "./limit.js";
import { folderPath, keyFromListEntry, secretPath } from "./names.js";
import type { ResolvedOptions } from "./options.js";

type RequestOptions = { signal?: AbortSignal | undefined };
export type Call = <T>(
  ctx: {
    operation: "read" | "write" | "list" | "delete";
    path: string;
    key?: string | undefined;
    sensitive?: string[] | undefined;
  },
  signal: AbortSignal | undefined,
  fn: (client: VaultClient, requestOptions: RequestOptions) => Promise<T>,
) => Promise<T>;

type Body = { data?: Record<string, unknown> | null } | undefined;

const undefinedOn404 = (error: unknown): undefined => {
  if (isPlain404(error)) return undefined;
  throw error;
};

export function createStore(o: ResolvedOptions, call: Call) {
  const { mount, kvVersion: kv, layout, name } = o;
  const readOnly = o.readOnly;

  /** The value and metadata of a data read. */
  const decode = (body: Body, ref: SecretRef): SecretValue => {
    if (kv === 1) {
      const data = body?.data ?? {};
      if (readOnly) return decodeWhole(data, ref.key, {}, name);
      return decodeValue(data, ref.key, metadataFromV1(data), name);
    }
    // A 200 without the KV v2 envelope (e.g. a proxy's page) is no answer, not a deleted secret.
    if (!body?.data || typeof body.data.metadata !== "object") {
      throw new BackendUnavailableError(`Vault answered the read of '${ref.key}' without KV v2 data.`, {
        backend: name,
      });
    }
    const meta = (body.data.metadata ?? {}) as Record<string, unknown>;
    const metadata: SecretMetadata = {
      ...metadataFromCustom(meta.custom_metadata),
      ...versionInfo(meta.version, meta.created_time),
    };
    const data = body.data.data;
    if (data === null || data === undefined) {
      throw new SecretDisabledError(
        `Secret '${ref.key}' exists in Vault but its current version is deleted.`,
        { backend: name },
      );
    }
    return readOnly ? decodeWhole(data, ref.key, metadata, name) : decodeValue(data, ref.key, metadata, name);
  };

  /** Description and tags of one listed key; undefined when it vanished since the LIST. */
  const metadataOf = async (
    path: string,
    signal: AbortSignal | undefined,
  ): Promise<SecretMetadata | undefined> => {
    if (kv === 1 && readOnly) return {};
    const api = kv === 2 ? metadataPath(mount, path) : dataPath(mount, 1, path);
    const body = await call<Body>({ operation: "list", path: api }, signal, (c, ro) =>
      c.read(api, ro).catch(undefinedOn404),
    );
    if (!body) return undefined;
    const data = body.data ?? {};
    if (kv === 1) return metadataFromV1(data);
    if (isUnwritten(data)) return undefined; // a create cut off after its metadata: not a secret
    return {
      ...metadataFromCustom(data.custom_metadata),
      ...versionInfo(data.current_version, data.updated_time),
    };
  };

  return {
    async read(
      ref: SecretRef,
      version: number | undefined,
      signal: AbortSignal | undefined,
    ): Promise<SecretValue> {
      const api = dataPath(mount, kv, secretPath(layout, ref));
      const query = version === undefined ? "" : `?version=${version}`;
      const body = await call<Body>({ operation: "read", path: api, key: ref.key }, signal, (c, ro) =>
        c.read(api + query, ro),
      );
      return decode(body, ref);
    },

    /**
     * KV v2 only: the current version from the secret's metadata (`<mount>/metadata/<path>`), so
     * the value is not read. `<version>@<its created_time>`: a secret deleted and written again
     * starts over at version 1, and the time tells that 1 from the one before.
     * @throws SecretNotFoundError as `read` would (a path with no version written is not a secret);
     *   SecretDisabledError when the current version is deleted or destroyed.
     */
    async version(ref: SecretRef, signal: AbortSignal | undefined): Promise<string> {
      const api = metadataPath(mount, secretPath(layout, ref));
      const body = await call<Body>({ operation: "read", path: api, key: ref.key }, signal, (c, ro) =>
        c.read(api, ro),
      );
      const data = body?.data;
      if (!data || typeof data !== "object") {
        throw new BackendUnavailableError(`Vault answered the metadata read of '${ref.key}' without data.`, {
          backend: name,
        });
      }
      if (isUnwritten(data)) throw new SecretNotFoundError(ref.key, { backend: name });
      const current = data.current_version;
      const entry = (
        data.versions as
          | Record<string, { created_time?: unknown; deletion_time?: unknown; destroyed?: unknown }>
          | undefined
      )?.[String(current)];
      if (typeof current !== "number" || !entry) {
        throw new BackendUnavailableError(`Vault's metadata of '${ref.key}' names no current version.`, {
          backend: name,
        });
      }
      // A deletion_time still to come (delete_version_after) has not deleted anything yet.
      const deleted =
        typeof entry.deletion_time === "string" && Date.parse(entry.deletion_time) <= Date.now();
      if (entry.destroyed === true || deleted) {
        throw new SecretDisabledError(
          `Secret '${ref.key}' exists in Vault but its current version is deleted.`,
          { backend: name },
        );
      }
      return typeof entry.created_time === "string" ? `${current}@${entry.created_time}` : String(current);
    },

    async list(
      namespace: string,
      tenant: string | undefined,
      signal: AbortSignal | undefined,
    ): Promise<SecretListing[]> {
      const folder = folderPath(layout, namespace, tenant);
      const api = listPath(mount, kv, folder);
      const body = await call<Body>({ operation: "list", path: api }, signal, (c, ro) =>
        c.list(api, ro).catch(undefinedOn404),
      );
      const entries = Array.isArray(body?.data?.keys) ? (body.data.keys as unknown[]) : [];
      const keys = [
        ...new Set(entries.map(keyFromListEntry).filter((k): k is string => k !== undefined)),
      ].sort();
      // One metadata read per key (bounded): LIST returns names only.
      const metadata = await mapLimit(keys, o.concurrency, (key) =>
        metadataOf(folder === "" ? key : `${folder}/${key}`, signal),
      );
      return keys.flatMap((key, i) => (metadata[i] ? [{ key, metadata: metadata[i] }] : []));
    },

    async write(
      ref: SecretRef,
      value: string | Uint8Array,
      metadata: PutMetadata | undefined,
      cas: number | undefined,
      signal: AbortSignal | undefined,
    ): Promise<void> {
      const path = secretPath(layout, ref);
      const api = dataPath(mount, kv, path);
      const data = encodeData(value);
      const sensitive = Object.values(data) as string[];
      const ctx = { operation: "write" as const, path: api, key: ref.key, sensitive };
      if (kv === 1) {
        // KV v1 replaces the whole object: carry the stored description and tags over.
        const kept =
          metadata ??
          metadataFromV1(
            (
              await call<Body>({ ...ctx, operation: "read" }, signal, (c, ro) =>
                c.read(api, ro).catch(undefinedOn404),
              )
            )?.data ?? {},
          );
        await call(ctx, signal, (c, ro) => c.write(api, withV1Metadata(data, kept), ro));
        return;
      }
      const custom = metadata ? encodeCustomMetadata(ref.key, metadata, name) : undefined;
      const metaApi = metadataPath(mount, path);
      const writeMetadata = async () => {
        if (!custom) return;
        await call({ ...ctx, path: metaApi }, signal, (c, ro) =>
          c.write(metaApi, { custom_metadata: custom }, ro),
        );
      };
      const writeData = () =>
        call(ctx, signal, (c, ro) =>
          c.write(api, cas === undefined ? { data } : { data, options: { cas } }, ro),
        );
      // KV v2 takes the value and the custom metadata in two requests. The data write is the commit
      // point: it is the request that makes a version, and a version is what every read (get, list,
      // getMany, delete) takes as "the secret exists". So a plain put writes the metadata FIRST:
      // - a create cut off between the two leaves a metadata-only path (current_version 0), which
      //   reads as not found, so a re-run (`keyway copy`) plans it as a create again and completes it;
      // - an update cut off between the two leaves the old value and version with the new metadata;
      //   the version did not move, so anything that compares versions, or a re-run with
      //   --overwrite, redoes the whole put. (Value first would instead leave a new version with stale
      //   metadata that no version check can tell apart from a finished put.)
      // This needs no extra request to tell a create from an update.
      // Check-and-set is the exception: the CAS check happens on the data write, and a put that
      // loses it must change nothing, so the value goes first and the metadata only once the check
      // passed. A putWithCas cut off between the two leaves the new version without the new
      // metadata; the caller repairs it with putWithCas(ref, value, <that version>, metadata).
      if (cas === undefined) {
        await writeMetadata();
        await writeData();
      } else {
        await writeData();
        await writeMetadata();
      }
    },

    /**
     * Vault answers 204 to deleting a missing path, so existence is checked first. A KV v2
     * metadata-only path (a create cut off before its value, see `write`) is not a secret, so
     * deleting it is SecretNotFoundError like everywhere else; the orphan metadata is removed
     * first all the same, so nothing of the failed create is left behind.
     */
    async remove(ref: SecretRef, signal: AbortSignal | undefined): Promise<void> {
      const path = secretPath(layout, ref);
      const api = kv === 2 ? metadataPath(mount, path) : dataPath(mount, 1, path);
      const ctx = { operation: "delete" as const, path: api, key: ref.key };
      const body = await call<Body>(ctx, signal, (c, ro) => c.read(api, ro));
      await call(ctx, signal, (c, ro) => c.delete(api, ro));
      if (kv === 2 && isUnwritten(body?.data ?? {}))
        throw new SecretNotFoundError(ref.key, { backend: name });
    },
  };
}

/**
 * True for KV v2 metadata of a path that holds no version: a create cut off after its metadata
 * write (see `write`), or metadata another tool wrote alone. Such a path is not a secret. (A path
 * whose current version is soft-deleted does have a version: reads say SecretDisabledError.)
 */
function isUnwritten(metadata: Record<string, unknown>): boolean {
  const versions = metadata.versions;
  const none = typeof versions === "object" && versions !== null && Object.keys(versions).length === 0;
  return metadata.current_version === 0 || none;
}

function versionInfo(version: unknown, time: unknown): SecretMetadata {
  const out: { version?: string; updatedAt?: Date } = {};
  if (typeof version === "number" && version > 0) out.version = String(version);
  if (typeof time === "string" && time !== "") {
    const date = new Date(time);
    if (!Number.isNaN(date.getTime())) out.updatedAt = date;
  }
  return out;
}
