/**
 * The name mapping: where a ref lives under the KV mount, and back.
 *
 * Managed mode: `<prefix>/<tenant or _>/<namespace segments>/<KEY>`, e.g. tenant `acme`,
 * namespace `company.team`, key `DB` → `keyway/acme/company/team/DB`; no tenant, root namespace,
 * key `DB` → `keyway/_/DB`. Injective without a marker segment: the tenant slot is always there
 * (`_` cannot be a tenant: tenants start with `[a-z0-9]`), the key is always the last segment,
 * and no field can hold a `/`, so the segment list `[tenant, ...namespace, key]` is the ref.
 * A root key `A` (`_/A`) and a namespace `A` (`_/A/…`) coexist: Vault keeps a leaf `A` and a
 * folder `A/` apart, and LIST returns them as `A` and `A/`.
 *
 * Read-only mode: `<readOnlyPath>/<namespace segments>/<KEY>`; a `{tenant}` segment in
 * `readOnlyPath` takes the ref's tenant. A path with `{tenant}` serves only refs with a tenant and
 * one without serves only refs without, so two refs never share a path there either.
 */
import {
  ConfigurationError,
  isValidKey,
  isValidNamespace,
  isValidTenant,
  type SecretRef,
} from "@keyway/core/backend";

/** Where secrets live below the mount. */
export interface PathLayout {
  /** Leading segments (the prefix, or the read-only path with `{tenant}` unresolved). */
  readonly root: readonly string[];
  /** Managed mode has a tenant slot (`_` for none); read-only mode has `{tenant}` or nothing. */
  readonly mode: "managed" | "read-only";
}

/** The tenant slot's value when a ref has no tenant (never a valid tenant). */
export const NO_TENANT = "_";
/** The placeholder a read-only path may contain for the tenant. */
export const TENANT_PLACEHOLDER = "{tenant}";

const SEGMENT = /^[A-Za-z0-9_.-]+$/;

/**
 * Splits a mount, prefix or read-only path into segments. Leading and trailing slashes are
 * ignored; `""` is no segment. Segments are `[A-Za-z0-9_.-]`, never `.` or `..`.
 * @throws ConfigurationError naming the option (never echoing anything but the option name).
 */
export function pathSegments(value: string, option: string, allowTenant = false): string[] {
  const segments = value.split("/").filter((s) => s !== "");
  for (const s of segments) {
    const ok = (SEGMENT.test(s) && s !== "." && s !== "..") || (allowTenant && s === TENANT_PLACEHOLDER);
    if (!ok) {
      throw new ConfigurationError(
        `Vault backend option '${option}' must be '/'-separated segments of A-Z a-z 0-9 _ . -${allowTenant ? " (or {tenant})" : ""}.`,
      );
    }
  }
  if (allowTenant && segments.filter((s) => s === TENANT_PLACEHOLDER).length > 1) {
    throw new ConfigurationError(`Vault backend option '${option}' may contain {tenant} once.`);
  }
  return segments;
}

/** The managed layout under `prefix`. */
export function managedLayout(prefix: string): PathLayout {
  return { root: pathSegments(prefix, "prefix"), mode: "managed" };
}

/** The read-only layout under `readOnlyPath` (which may contain `{tenant}`). */
export function readOnlyLayout(readOnlyPath: string): PathLayout {
  return { root: pathSegments(readOnlyPath, "readOnlyPath", true), mode: "read-only" };
}

/** The folder that holds the keys of `namespace` (no trailing slash; `""` for the mount root). */
export function folderPath(layout: PathLayout, namespace: string, tenant: string | undefined): string {
  const ns = namespace === "" ? [] : namespace.split(".");
  return [...rootFor(layout, tenant), ...ns].join("/");
}

/** The path of one secret below the mount. The ref must be valid (`validateRef`). */
export function secretPath(layout: PathLayout, ref: SecretRef): string {
  const folder = folderPath(layout, ref.namespace, ref.tenant);
  return folder === "" ? ref.key : `${folder}/${ref.key}`;
}

/**
 * The inverse of {@link secretPath}: the ref a path names, or undefined for a path outside the
 * layout (another prefix, a folder, a name that is not a valid key or namespace).
 */
export function refFromPath(layout: PathLayout, path: string): SecretRef | undefined {
  const segments = path.split("/");
  const slot = layout.root.indexOf(TENANT_PLACEHOLDER);
  const rootLength = layout.root.length + (layout.mode === "managed" ? 1 : 0);
  if (segments.length < rootLength + 1) return undefined;
  let tenant: string | undefined;
  for (const [i, expected] of layout.root.entries()) {
    if (i === slot) tenant = segments[i];
    else if (segments[i] !== expected) return undefined;
  }
  if (layout.mode === "managed") {
    const t = segments[layout.root.length];
    tenant = t === NO_TENANT ? undefined : t;
  }
  if (tenant !== undefined && !isValidTenant(tenant)) return undefined;
  const key = segments[segments.length - 1];
  const namespace = segments.slice(rootLength, -1).join(".");
  if (!isValidKey(key) || !isValidNamespace(namespace)) return undefined;
  return tenant === undefined ? { namespace, key } : { tenant, namespace, key };
}

/** The key a LIST entry names, or undefined for a sub-folder (`x/`) or a name outside the key grammar. */
export function keyFromListEntry(entry: unknown): string | undefined {
  return typeof entry === "string" && isValidKey(entry) ? entry : undefined;
}

function rootFor(layout: PathLayout, tenant: string | undefined): string[] {
  if (layout.mode === "managed") return [...layout.root, tenant ?? NO_TENANT];
  const slot = layout.root.indexOf(TENANT_PLACEHOLDER);
  if (slot === -1 && tenant !== undefined) {
    throw new ConfigurationError(
      "This read-only Vault backend has no {tenant} in 'readOnlyPath', so it cannot serve a tenant's secrets.",
    );
  }
  if (slot !== -1 && tenant === undefined) {
    throw new ConfigurationError(
      "This read-only Vault backend's 'readOnlyPath' has {tenant}: give a tenant.",
    );
  }
  return layout.root.map((s) => (s === TENANT_PLACEHOLDER ? (tenant as string) : s));
}
