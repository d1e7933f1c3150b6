/** The Vault backend's reads: a value, the current version (KV v2), a folder's keys. */
import {
  BackendUnavailableError,
  SecretDisabledError,
  type SecretListing,
  type SecretMetadata,
  SecretNotFoundError,
  type SecretRef,
  type SecretValue,
} from "@keyway/core/backend";
import { type Body, type KvContext, undefinedOn404 } from "./connection.js";
import {
  dataPath,
  decodeValue,
  decodeWhole,
  isUnwritten,
  listPath,
  metadataFromCustom,
  metadataFromV1,
  metadataPath,
} from "./kv.js";
import { mapLimit } from "./limit.js";
import { folderPath, keyFromListEntry, secretPath } from "./names.js";

export async function readValue(
  kv: KvContext,
  ref: SecretRef,
  version: number | undefined,
  signal: AbortSignal | undefined,
): Promise<SecretValue> {
  const { call, settings: o } = kv;
  const { mount, kvVersion, layout } = o;
  const api = dataPath(mount, kvVersion, secretPath(layout, ref));
  const query = version === undefined ? "" : `?version=${version}`;
  const body = await call<Body>({ operation: "read", path: api, key: ref.key }, signal, (c, ro) =>
    c.read(api + query, ro),
  );
  return decode(kv, body, ref);
}

/**
 * KV v2 only: the current version from the secret's metadata (`<mount>/metadata/<path>`), so
 * the value is not read. `<version>@<its created_time>`: a secret deleted and written again
 * starts over at version 1, and the time tells that 1 from the one before.
 * @throws SecretNotFoundError as `read` would (a path with no version written is not a secret);
 *   SecretDisabledError when the current version is deleted or destroyed.
 */
export async function currentVersion(
  kv: KvContext,
  ref: SecretRef,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { call, settings: o } = kv;
  const { mount, layout, name } = o;
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
  const deleted = typeof entry.deletion_time === "string" && Date.parse(entry.deletion_time) <= Date.now();
  if (entry.destroyed === true || deleted) {
    throw new SecretDisabledError(`Secret '${ref.key}' exists in Vault but its current version is deleted.`, {
      backend: name,
    });
  }
  return typeof entry.created_time === "string" ? `${current}@${entry.created_time}` : String(current);
}

export async function listKeys(
  kv: KvContext,
  namespace: string,
  tenant: string | undefined,
  signal: AbortSignal | undefined,
): Promise<SecretListing[]> {
  const { call, settings: o } = kv;
  const { mount, kvVersion, layout } = o;
  const folder = folderPath(layout, namespace, tenant);
  const api = listPath(mount, kvVersion, folder);
  const body = await call<Body>({ operation: "list", path: api }, signal, (c, ro) =>
    c.list(api, ro).catch(undefinedOn404),
  );
  const entries = Array.isArray(body?.data?.keys) ? (body.data.keys as unknown[]) : [];
  const keys = [...new Set(entries.map(keyFromListEntry).filter((k): k is string => k !== undefined))].sort();
  // One metadata read per key (bounded): LIST returns names only.
  const metadata = await mapLimit(keys, o.concurrency, (key) =>
    metadataOf(kv, folder === "" ? key : `${folder}/${key}`, signal),
  );
  return keys.flatMap((key, i) => (metadata[i] ? [{ key, metadata: metadata[i] }] : []));
}

/** The value and metadata of a data read. */
function decode(kv: KvContext, body: Body, ref: SecretRef): SecretValue {
  const { kvVersion, readOnly, name } = kv.settings;
  if (kvVersion === 1) {
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
    throw new SecretDisabledError(`Secret '${ref.key}' exists in Vault but its current version is deleted.`, {
      backend: name,
    });
  }
  return readOnly ? decodeWhole(data, ref.key, metadata, name) : decodeValue(data, ref.key, metadata, name);
}

/** Description and tags of one listed key; undefined when it vanished since the LIST. */
async function metadataOf(
  kv: KvContext,
  path: string,
  signal: AbortSignal | undefined,
): Promise<SecretMetadata | undefined> {
  const { call, settings } = kv;
  const { kvVersion, readOnly, mount } = settings;
  if (kvVersion === 1 && readOnly) return {};
  const api = kvVersion === 2 ? metadataPath(mount, path) : dataPath(mount, 1, path);
  const body = await call<Body>({ operation: "list", path: api }, signal, (c, ro) =>
    c.read(api, ro).catch(undefinedOn404),
  );
  if (!body) return undefined;
  const data = body.data ?? {};
  if (kvVersion === 1) return metadataFromV1(data);
  if (isUnwritten(data)) return undefined; // a create cut off after its metadata: not a secret
  return {
    ...metadataFromCustom(data.custom_metadata),
    ...versionInfo(data.current_version, data.updated_time),
  };
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
