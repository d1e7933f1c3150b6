/**
 * The name mapping between Keyway refs and AWS secret names, and its inverse for `list`.
 *
 *   <prefix>/<tenant or _>/<namespace segments joined by />/<KEY>
 *
 * e.g. tenant `acme`, namespace `company.team`, key `DB` → `keyway/acme/company/team/DB`; no
 * tenant, root namespace → `keyway/_/DB`. Unambiguous because no field can hold `/` (keys and
 * namespace segments are `[A-Za-z0-9_-]`), so splitting the part after the prefix on `/` gives
 * back exactly [tenant, ...segments, key]: the first part is the tenant (`_` can never be one: a
 * tenant starts with `[a-z0-9]`), the last is the key, and whatever lies between is the
 * namespace, none for the root. `keyway/_/A` (root, key A) and `keyway/_/A/K` (namespace A, key
 * K) differ in their number of parts.
 */
import {
  isValidKey,
  isValidNamespace,
  isValidTenant,
  MAX_NAMESPACE_LENGTH,
  type SecretRef,
} from "@keyway/core/backend";

/** The tenant part of a name when the ref has no tenant. */
export const NO_TENANT = "_";
/** AWS's limit on a secret name. */
export const MAX_SECRET_NAME_LENGTH = 512;
/** The longest name fields can make without the prefix: `/` tenant `/` namespace `/` key. */
const MAX_FIELDS_LENGTH = 1 + 63 + 1 + MAX_NAMESPACE_LENGTH + 1 + 255;
/** So that every valid ref fits in `MAX_SECRET_NAME_LENGTH` (512, AWS's limit). */
export const MAX_PREFIX_LENGTH = MAX_SECRET_NAME_LENGTH - MAX_FIELDS_LENGTH;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
/** AWS name characters, as `/`-separated non-empty parts (no leading, trailing or double `/`). */
export const PREFIX_PATTERN = /^[A-Za-z0-9_+=.@-]+(\/[A-Za-z0-9_+=.@-]+)*$/;

/** Tags Keyway puts on every secret it writes (as Kestra's managed mode does). */
export const TAG_PREFIX = "keyway:";
export const TAG_NAMESPACE = "keyway:namespace";
export const TAG_KEY = "keyway:key";
export const TAG_TENANT = "keyway:tenant";
export const TAG_DEPLOYMENT = "keyway:prefix";

/** The AWS secret name of a (validated) ref. */
export function secretName(prefix: string, ref: SecretRef): string {
  const segments = ref.namespace === "" ? [] : ref.namespace.split(".");
  return [prefix, ref.tenant ?? NO_TENANT, ...segments, ref.key].join("/");
}

/**
 * What every name in one namespace (and tenant) starts with, ending in `/`: the `name` filter of
 * `ListSecrets`. Names of sub-namespaces start with it too; {@link parseSecretName} tells them apart.
 */
export function namespaceNamePrefix(prefix: string, namespace: string, tenant?: string): string {
  const segments = namespace === "" ? [] : namespace.split(".");
  return `${[prefix, tenant ?? NO_TENANT, ...segments].join("/")}/`;
}

/** The ref a name maps from, or undefined when the name is not one this mapping makes. */
export function parseSecretName(prefix: string, name: string): SecretRef | undefined {
  if (!name.startsWith(`${prefix}/`)) return undefined;
  const parts = name.slice(prefix.length + 1).split("/");
  // Each middle part must be one whole segment: an empty part (`_//K`) would join into the
  // root, and a dotted one (`_/a.b/K`) into `a.b`: second spellings of other refs' names.
  if (parts.length < 2 || !parts.slice(1, -1).every((part) => SEGMENT.test(part))) return undefined;
  const tenantPart = parts[0] as string;
  const key = parts[parts.length - 1] as string;
  const namespace = parts.slice(1, -1).join(".");
  if (!isValidKey(key) || !isValidNamespace(namespace)) return undefined;
  if (tenantPart === NO_TENANT) return { namespace, key };
  if (!isValidTenant(tenantPart)) return undefined;
  return { tenant: tenantPart, namespace, key };
}

/** The `keyway:` tags of a ref; no tenant tag without a tenant. */
export function keywayTags(prefix: string, ref: SecretRef): Record<string, string> {
  const tags: Record<string, string> = {
    [TAG_DEPLOYMENT]: prefix,
    [TAG_NAMESPACE]: ref.namespace,
    [TAG_KEY]: ref.key,
  };
  if (ref.tenant !== undefined) tags[TAG_TENANT] = ref.tenant;
  return tags;
}

/** True when a secret's tags say it holds `ref` (read-only `tags` mode). */
export function tagsMatchRef(tags: Readonly<Record<string, string>>, ref: SecretRef): boolean {
  return (
    tags[TAG_KEY] === ref.key &&
    (tags[TAG_NAMESPACE] ?? "") === ref.namespace &&
    (tags[TAG_TENANT] || undefined) === ref.tenant
  );
}

/** Tags as AWS returns them → a record. */
export function tagRecord(
  tags: ReadonlyArray<{ Key?: string | undefined; Value?: string | undefined }> = [],
) {
  const record: Record<string, string> = {};
  for (const { Key, Value } of tags) if (Key !== undefined) record[Key] = Value ?? "";
  return record;
}

/** The tags a caller sees: everything but Keyway's own. */
export function userTags(tags: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([key]) => !key.startsWith(TAG_PREFIX)));
}
