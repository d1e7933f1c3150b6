/**
 * The reference grammar: which secret a caller asks for. This grammar is the wall between
 * namespaces and tenants, so it is checked with plain code before any backend sees a ref.
 */
import { InvalidReferenceError } from "./errors.js";

/** One secret: a key in a namespace, optionally inside a tenant. */
export interface SecretRef {
  /** Absent for single-tenant use; otherwise `[a-z0-9][a-z0-9-]{0,62}`. */
  readonly tenant?: string | undefined;
  /** Dot-separated segments of `[A-Za-z0-9_-]`; `""` is the root. At most 150 characters. */
  readonly namespace: string;
  /** 1–255 characters of `[A-Za-z0-9_-]`. */
  readonly key: string;
}

export const MAX_NAMESPACE_LENGTH = 150;

/** Shows untrusted input in an error safely: printable ASCII only, capped. */
function shown(input: unknown): string {
  // Only a string is shown: String() of an object can throw (no prototype, a throwing toString).
  if (typeof input !== "string") return input === null ? "null" : `(a ${typeof input})`;
  const text = input;
  const safe = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  return safe.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `[A-Za-z0-9_-]`, by character code. The grammars below (key `^[A-Za-z0-9_-]{1,255}$`, namespace
 * segment `^[A-Za-z0-9_-]+$`, tenant `^[a-z0-9][a-z0-9-]{0,62}$`) are checked with loops over
 * `charCodeAt` rather than with those regular expressions and `split`: every uncached resolve
 * validates its ref, and the loops take a fraction of the time and allocate nothing.
 */
function isNameChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 /* _ */ ||
    c === 45 /* - */
  );
}

export function isValidKey(key: unknown): key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > 255) return false;
  for (let i = 0; i < key.length; i++) if (!isNameChar(key.charCodeAt(i))) return false;
  return true;
}

export function isValidNamespace(namespace: unknown): namespace is string {
  if (typeof namespace !== "string") return false;
  if (namespace === "") return true;
  if (namespace.length > MAX_NAMESPACE_LENGTH) return false;
  // Segments of at least one name character, separated by single dots.
  let segmentLength = 0;
  for (let i = 0; i < namespace.length; i++) {
    const c = namespace.charCodeAt(i);
    if (c === 46 /* . */) {
      if (segmentLength === 0) return false;
      segmentLength = 0;
    } else if (isNameChar(c)) segmentLength++;
    else return false;
  }
  return segmentLength > 0;
}

export function isValidTenant(tenant: unknown): tenant is string {
  if (typeof tenant !== "string" || tenant.length === 0 || tenant.length > 63) return false;
  for (let i = 0; i < tenant.length; i++) {
    const c = tenant.charCodeAt(i);
    const lowerOrDigit = (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!lowerOrDigit && (i === 0 || c !== 45)) return false;
  }
  return true;
}

/** Throws {@link InvalidReferenceError} unless `key` fits the key grammar. */
export function assertKey(key: unknown): asserts key is string {
  if (!isValidKey(key)) {
    throw new InvalidReferenceError(
      `Invalid secret key ${shown(key)}: use 1-255 characters of A-Z a-z 0-9 _ -.`,
    );
  }
}

/** Throws {@link InvalidReferenceError} unless `namespace` fits the namespace grammar. */
export function assertNamespace(namespace: unknown): asserts namespace is string {
  if (!isValidNamespace(namespace)) {
    throw new InvalidReferenceError(
      `Invalid namespace ${shown(namespace)}: use dot-separated segments of A-Z a-z 0-9 _ - (at most ${MAX_NAMESPACE_LENGTH} characters), or "" for the root.`,
    );
  }
}

/** Throws {@link InvalidReferenceError} unless `tenant` is absent or fits the tenant grammar. */
export function assertTenant(tenant: unknown): asserts tenant is string | undefined {
  if (tenant !== undefined && !isValidTenant(tenant)) {
    throw new InvalidReferenceError(`Invalid tenant ${shown(tenant)}: use [a-z0-9][a-z0-9-]{0,62}.`);
  }
}

/**
 * Throws {@link InvalidReferenceError} unless `subkey` is absent or a string (any string is a JSON
 * key). Checked before anything is read: a number or an array would otherwise be turned into a
 * string by the JSON lookup, and name another key than the caller's.
 */
export function assertSubkey(subkey: unknown): asserts subkey is string | undefined {
  if (subkey !== undefined && typeof subkey !== "string") {
    throw new InvalidReferenceError(`Invalid sub-key ${shown(subkey)}: a sub-key is a string (a JSON key).`);
  }
}

/**
 * Validates a ref from untrusted input and returns a frozen copy holding only the three fields.
 * @throws InvalidReferenceError naming the field to fix.
 */
export function validateRef(ref: unknown): SecretRef {
  if (typeof ref !== "object" || ref === null) {
    throw new InvalidReferenceError("A secret reference must be an object { tenant?, namespace, key }.");
  }
  const { tenant, namespace, key } = ref as Record<string, unknown>;
  assertKey(key);
  assertNamespace(namespace);
  assertTenant(tenant);
  return Object.freeze(tenant === undefined ? { namespace, key } : { tenant, namespace, key });
}

/** The characters {@link refId} escapes in a field: its separators and the escape itself. */
const ID_SPECIAL = /[\\|@]/;
const ID_SPECIALS = /[\\|@]/g;

/** A field as it appears in an id: `\`, `|` and `@` escaped with `\` (never present in a valid ref). */
function idField(text: string): string {
  return ID_SPECIAL.test(text) ? text.replace(ID_SPECIALS, "\\$&") : text;
}

/**
 * A string that identifies a ref exactly: the cache key and map key. Injective over every ref,
 * valid or not (trust issue #18 point 2: `""` and "no tenant" once shared an id, so a memo keyed
 * by it served the untenanted secret to `{ tenant: "" }`): fields are joined by `|`, a ref without
 * a tenant has two fields and one with a tenant three, and a `\`, `|` or `@` inside a field is
 * escaped, so the fields are read back unambiguously, and `@` after the id (a version, see cache.ts)
 * cannot be confused with a field. Valid refs hold none of those characters: their ids are the
 * plain fields.
 */
export function refId(ref: SecretRef): string {
  // join builds one flat string; a template literal builds a rope that the cache's map would
  // flatten on first use and then keep both (40 bytes more per cached secret).
  const namespace = idField(ref.namespace);
  const key = idField(ref.key);
  return ref.tenant === undefined
    ? [namespace, key].join("|")
    : [idField(ref.tenant), namespace, key].join("|");
}

/** A readable form for messages: `tenant/namespace/KEY` (root shown as `<root>`). */
export function formatRef(ref: SecretRef): string {
  const ns = ref.namespace === "" ? "<root>" : ref.namespace;
  return ref.tenant === undefined ? `${ns}/${ref.key}` : `${ref.tenant}/${ns}/${ref.key}`;
}

/** The namespace itself, then each ancestor up to the root: `a.b` → `["a.b", "a", ""]`. */
export function namespaceChain(namespace: string): string[] {
  const chain: string[] = [];
  let current = namespace;
  while (current !== "") {
    chain.push(current);
    const dot = current.lastIndexOf(".");
    current = dot === -1 ? "" : current.slice(0, dot);
  }
  chain.push("");
  return chain;
}

/** True when `namespace` is `ancestor` or lies below it on whole segments. */
export function isWithinNamespace(namespace: string, ancestor: string): boolean {
  return ancestor === "" || namespace === ancestor || namespace.startsWith(`${ancestor}.`);
}
