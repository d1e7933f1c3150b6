/**
 * How values and metadata are stored in Key Vault: text as is, bytes as base64 with their own
 * content type, and Keyway's metadata in tags (`keyway-*`) next to the caller's own tags.
 */
import type { KeyVaultSecret, SecretProperties } from "@azure/keyvault-secrets";
import {
  InvalidSecretValueError,
  type PutMetadata,
  SecretDisabledError,
  type SecretMetadata,
  SecretValue,
} from "@keyway/core/backend";

/** Key Vault's largest value: 25 KiB. */
export const MAX_VALUE_BYTES = 25_600;
/** The largest binary value: its base64 must fit {@link MAX_VALUE_BYTES}. */
export const MAX_BINARY_BYTES = (MAX_VALUE_BYTES / 4) * 3;

export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";
export const BINARY_CONTENT_TYPE = "application/octet-stream;base64";

/** Tags Keyway writes; callers' tag names may not start with this. */
export const TAG_PREFIX = "keyway-";
export const TAGS = {
  prefix: "keyway-prefix",
  tenant: "keyway-tenant",
  namespace: "keyway-namespace",
  key: "keyway-key",
  description: "keyway-description",
} as const;

/** Key Vault's limits on tags. */
const MAX_TAGS = 15;
const MAX_TAG_NAME = 512;
const MAX_TAG_VALUE = 256;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The text to store and its content type; refuses oversized values before any call. */
export function encodeValue(
  value: string | Uint8Array,
  key: string,
  backend: string,
): { text: string; contentType: string } {
  if (typeof value === "string") {
    const bytes = Buffer.byteLength(value, "utf8");
    if (bytes > MAX_VALUE_BYTES) {
      throw new InvalidSecretValueError(
        `Secret '${key}' is ${bytes} bytes; Azure Key Vault stores at most ${MAX_VALUE_BYTES}.`,
        { backend },
      );
    }
    return { text: value, contentType: TEXT_CONTENT_TYPE };
  }
  if (value.byteLength > MAX_BINARY_BYTES) {
    throw new InvalidSecretValueError(
      `Binary secret '${key}' is ${value.byteLength} bytes; Azure Key Vault stores at most ${MAX_BINARY_BYTES} ` +
        `(as base64, at most ${MAX_VALUE_BYTES}).`,
      { backend },
    );
  }
  return {
    text: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
    contentType: BINARY_CONTENT_TYPE,
  };
}

/** The tags to write: defaults, the caller's, then Keyway's own (which win). */
export function encodeTags(
  fields: { prefix: string; tenant?: string | undefined; namespace: string; key: string },
  metadata: PutMetadata,
  defaults: Readonly<Record<string, string>>,
  backend: string,
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...defaults, ...metadata.tags })) {
    if (name.toLowerCase().startsWith(TAG_PREFIX)) {
      throw new InvalidSecretValueError(
        `Secret '${fields.key}' cannot be written: tag names starting with '${TAG_PREFIX}' are reserved.`,
        { backend },
      );
    }
    tags[name] = value;
  }
  tags[TAGS.prefix] = fields.prefix;
  tags[TAGS.key] = fields.key;
  // Empty tag values are skipped: the name, not the tags, is what identifies a secret.
  if (fields.namespace !== "") tags[TAGS.namespace] = fields.namespace;
  if (fields.tenant !== undefined) tags[TAGS.tenant] = fields.tenant;
  if (metadata.description !== undefined && metadata.description !== "")
    tags[TAGS.description] = metadata.description;
  const entries = Object.entries(tags);
  const problem =
    entries.length > MAX_TAGS
      ? `at most ${MAX_TAGS} tags (Keyway uses up to 5)`
      : entries.some(([n, v]) => n.length === 0 || n.length > MAX_TAG_NAME || v.length > MAX_TAG_VALUE)
        ? `tag names of 1-${MAX_TAG_NAME} characters and values (and the description) of at most ${MAX_TAG_VALUE}`
        : undefined;
  if (problem) {
    throw new InvalidSecretValueError(
      `Secret '${fields.key}' cannot be written: Azure Key Vault allows ${problem}.`,
      {
        backend,
      },
    );
  }
  return tags;
}

/** Description, the caller's tags, version and update time of a stored secret. */
export function decodeMetadata(properties: SecretProperties): SecretMetadata {
  const all = properties.tags ?? {};
  const tags: Record<string, string> = {};
  for (const [name, value] of Object.entries(all))
    if (!name.toLowerCase().startsWith(TAG_PREFIX)) tags[name] = value;
  return {
    description: all[TAGS.description],
    tags,
    version: properties.version,
    updatedAt: properties.updatedOn,
  };
}

/**
 * Throws a typed error when a secret may not be used now: disabled, expired, or not yet valid
 * (checked here too, so Keyway does not depend on the server refusing them: Lowkey Vault does not).
 */
export function checkUsable(
  properties: SecretProperties,
  key: string,
  backend: string,
  now = new Date(),
): void {
  if (properties.enabled === false) {
    throw new SecretDisabledError(`Secret '${key}' is disabled in Azure Key Vault.`, { backend });
  }
  if (properties.expiresOn !== undefined && properties.expiresOn.getTime() <= now.getTime()) {
    throw new SecretDisabledError(`Secret '${key}' expired on ${properties.expiresOn.toISOString()}.`, {
      backend,
    });
  }
  if (properties.notBefore !== undefined && properties.notBefore.getTime() > now.getTime()) {
    throw new SecretDisabledError(
      `Secret '${key}' is not valid before ${properties.notBefore.toISOString()}.`,
      {
        backend,
      },
    );
  }
}

/** The value of a secret Key Vault returned, or a typed error when it may not be used now. */
export function decodeValue(
  secret: KeyVaultSecret,
  key: string,
  backend: string,
  now = new Date(),
): SecretValue {
  const { properties } = secret;
  checkUsable(properties, key, backend, now);
  if (secret.value === undefined) {
    throw new InvalidSecretValueError(`Azure Key Vault returned no value for secret '${key}'.`, { backend });
  }
  const metadata = decodeMetadata(properties);
  if (properties.contentType?.replace(/\s+/g, "").toLowerCase() === BINARY_CONTENT_TYPE) {
    if (!BASE64.test(secret.value)) {
      throw new InvalidSecretValueError(
        `Secret '${key}' is marked ${BINARY_CONTENT_TYPE} but its value is not valid base64.`,
        { backend },
      );
    }
    return SecretValue.fromBytes(Buffer.from(secret.value, "base64"), metadata);
  }
  return SecretValue.fromText(secret.value, metadata);
}
