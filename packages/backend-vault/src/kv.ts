/**
 * The KV engine's shapes: API paths for v1 and v2, how a value and its metadata are stored, and
 * how they are read back. Pure functions; no I/O.
 *
 * Stored data: `{ "value": "<text>" }`, or `{ "value_base64": "<base64>" }` for bytes.
 * Metadata: KV v2 custom metadata `{ "description": "…", "tag:<name>": "…" }`; KV v1 has none,
 * so it rides in the data as `__description` (string) and `__tags` (object of strings).
 */
import {
  ConfigurationError,
  InvalidReferenceError,
  InvalidSecretValueError,
  type PutMetadata,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
} from "@keyway/core/backend";

export type KvVersion = 1 | 2;

export const VALUE_FIELD = "value";
export const BASE64_FIELD = "value_base64";
const DESCRIPTION = "description";
const TAG = "tag:";
const V1_DESCRIPTION = "__description";
const V1_TAGS = "__tags";
/** Vault's limits on custom metadata (KV v2): 64 keys, keys ≤ 128 and values ≤ 512 characters. */
const MAX_CUSTOM_KEYS = 64;
const MAX_CUSTOM_KEY = 128;
const MAX_CUSTOM_VALUE = 512;

/** API path of a secret's data: `<mount>/data/<path>` (v2) or `<mount>/<path>` (v1). */
export function dataPath(mount: string, version: KvVersion, path: string): string {
  return version === 2 ? `${mount}/data/${path}` : `${mount}/${path}`;
}

/** API path of a secret's metadata (v2 only). */
export function metadataPath(mount: string, path: string): string {
  return `${mount}/metadata/${path}`;
}

/** API path to LIST a folder (trailing slash, as Vault's CLI sends it). */
export function listPath(mount: string, version: KvVersion, folder: string): string {
  const base = version === 2 ? `${mount}/metadata` : mount;
  return folder === "" ? `${base}/` : `${base}/${folder}/`;
}

/** The data object to write for `value`. */
export function encodeData(value: string | Uint8Array): Record<string, unknown> {
  if (typeof value === "string") return { [VALUE_FIELD]: value };
  return { [BASE64_FIELD]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64") };
}

/** Adds the KV v1 metadata fields to `data` (v1 has no custom metadata). */
export function withV1Metadata(
  data: Record<string, unknown>,
  metadata: PutMetadata | undefined,
): Record<string, unknown> {
  if (!metadata) return data;
  const out = { ...data };
  if (metadata.description !== undefined) out[V1_DESCRIPTION] = metadata.description;
  if (metadata.tags !== undefined && Object.keys(metadata.tags).length > 0)
    out[V1_TAGS] = { ...metadata.tags };
  return out;
}

/**
 * KV v2 custom metadata for `metadata`.
 * @throws InvalidSecretValueError when it exceeds Vault's limits (checked before any call).
 */
export function encodeCustomMetadata(
  key: string,
  metadata: PutMetadata,
  backend: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (metadata.description !== undefined) out[DESCRIPTION] = metadata.description;
  for (const [name, value] of Object.entries(metadata.tags ?? {})) out[`${TAG}${name}`] = value;
  const entries = Object.entries(out);
  const tooBig =
    entries.length > MAX_CUSTOM_KEYS ||
    entries.some(([k, v]) => k.length > MAX_CUSTOM_KEY || k.length === 0 || v.length > MAX_CUSTOM_VALUE);
  if (tooBig) {
    throw new InvalidSecretValueError(
      `Metadata of secret '${key}' exceeds Vault's custom metadata limits: at most ${MAX_CUSTOM_KEYS} entries (description and tags), tag names up to ${MAX_CUSTOM_KEY - TAG.length} and values up to ${MAX_CUSTOM_VALUE} characters.`,
      { backend },
    );
  }
  return out;
}

/** Description and tags from KV v2 custom metadata; keys Keyway did not write become tags as they are. */
export function metadataFromCustom(custom: unknown): SecretMetadata {
  if (typeof custom !== "object" || custom === null) return {};
  let description: string | undefined;
  const tags: Record<string, string> = {};
  const foreign: Record<string, string> = {};
  for (const [k, v] of Object.entries(custom)) {
    if (typeof v !== "string") continue;
    if (k === DESCRIPTION) description = v;
    else if (k.startsWith(TAG)) tags[k.slice(TAG.length)] = v;
    else foreign[k] = v;
  }
  const all = { ...foreign, ...tags };
  return compact({ description, tags: Object.keys(all).length > 0 ? all : undefined });
}

/** Description and tags from a KV v1 data object. */
export function metadataFromV1(data: Record<string, unknown>): SecretMetadata {
  const description = typeof data[V1_DESCRIPTION] === "string" ? (data[V1_DESCRIPTION] as string) : undefined;
  const raw = data[V1_TAGS];
  let tags: Record<string, string> | undefined;
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    tags = Object.fromEntries(
      Object.entries(raw).filter((e): e is [string, string] => typeof e[1] === "string"),
    );
  }
  return compact({ description, tags });
}

/**
 * The secret a managed-mode data object holds.
 * @throws InvalidSecretValueError when it holds neither a text `value` nor a strict base64
 *   `value_base64` (e.g. a path written by another tool: read it with `readOnlyPath`).
 */
export function decodeValue(
  data: unknown,
  key: string,
  metadata: SecretMetadata,
  backend: string,
): SecretValue {
  const record = typeof data === "object" && data !== null ? (data as Record<string, unknown>) : {};
  const text = record[VALUE_FIELD];
  const b64 = record[BASE64_FIELD];
  if (typeof text === "string" && b64 === undefined) return SecretValue.fromText(text, metadata);
  if (typeof b64 === "string" && text === undefined) {
    const bytes = Buffer.from(b64, "base64");
    if (bytes.toString("base64") === b64) return SecretValue.fromBytes(bytes, metadata);
  }
  throw new InvalidSecretValueError(
    `Secret '${key}' in Vault does not hold a Keyway value (one string field '${VALUE_FIELD}' or base64 '${BASE64_FIELD}'); to read paths written by other tools, use the read-only mode (readOnlyPath).`,
    { backend },
  );
}

/** Read-only mode: the whole data object as JSON text, for sub-key extraction. */
export function decodeWhole(
  data: unknown,
  key: string,
  metadata: SecretMetadata,
  backend: string,
): SecretValue {
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new InvalidSecretValueError(`Secret '${key}' in Vault holds no data object.`, { backend });
  }
  return SecretValue.fromText(JSON.stringify(data), metadata);
}

function compact(metadata: SecretMetadata): SecretMetadata {
  return Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== undefined)) as SecretMetadata;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A text value Vault's JSON can hold: no lone surrogate (it would be stored as U+FFFD). */
export function wellFormed(ref: SecretRef, value: string | Uint8Array, backend: string): void {
  if (typeof value === "string" && LONE_SURROGATE.test(value))
    throw new InvalidSecretValueError(`Secret '${ref.key}' is not well-formed Unicode (a lone surrogate).`, {
      backend,
    });
}

/** A `version` read option as KV v2's version number. */
export function parseVersion(
  version: string | undefined,
  kvVersion: 1 | 2,
  backend: string,
): number | undefined {
  if (version === undefined) return undefined;
  if (kvVersion === 1)
    throw new ConfigurationError("KV v1 keeps no versions: read without 'version'.", { backend });
  if (!/^[1-9]\d{0,15}$/.test(version)) {
    throw new InvalidReferenceError("A Vault KV v2 version is a positive integer.", { backend });
  }
  return Number(version);
}

/**
 * True for KV v2 metadata of a path that holds no version: a create cut off after its metadata
 * write (see `write`), or metadata another tool wrote alone. Such a path is not a secret. (A path
 * whose current version is soft-deleted does have a version: reads say SecretDisabledError.)
 */
export function isUnwritten(metadata: Record<string, unknown>): boolean {
  const versions = metadata.versions;
  const none = typeof versions === "object" && versions !== null && Object.keys(versions).length === 0;
  return metadata.current_version === 0 || none;
}
