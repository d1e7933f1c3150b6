/**
 * What a secret's annotations hold: the ref's parts (for people and other tools; the id is the
 * source of truth), the description, the tags (one JSON annotation, since tag names need not fit
 * annotation-key rules) and the encoding marker that makes `get` return bytes.
 */
import {
  InvalidSecretValueError,
  type PutMetadata,
  type SecretMetadata,
  type SecretRef,
} from "@keyway/core/backend";

export type Annotations = Record<string, string>;

export const ENCODING = "keyway-encoding";
export const DESCRIPTION = "keyway-description";
export const TAGS = "keyway-tags";
/** Google's limit on the total size of a secret's annotation keys and values. */
export const MAX_ANNOTATIONS_BYTES = 16_384;

/** The annotations a put writes (description and tags only when given and not empty). */
export function annotationsFor(
  prefix: string,
  ref: SecretRef,
  metadata: PutMetadata,
  binary: boolean,
  backend?: string,
): Annotations {
  const annotations: Annotations = { "keyway-key": ref.key, [ENCODING]: binary ? "binary" : "text" };
  // Empty values are left out rather than stored as "".
  if (prefix !== "") annotations["keyway-prefix"] = prefix;
  if (ref.namespace !== "") annotations["keyway-namespace"] = ref.namespace;
  if (ref.tenant !== undefined) annotations["keyway-tenant"] = ref.tenant;
  if (metadata.description) annotations[DESCRIPTION] = metadata.description;
  const tags = Object.entries(metadata.tags ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (tags.length > 0) annotations[TAGS] = JSON.stringify(Object.fromEntries(tags));
  const size = Object.entries(annotations).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v),
    0,
  );
  if (size > MAX_ANNOTATIONS_BYTES) {
    throw new InvalidSecretValueError(
      `The description and tags of '${ref.key}' take ${size} bytes of annotations; Google Secret Manager allows ${MAX_ANNOTATIONS_BYTES}.`,
      { backend },
    );
  }
  return annotations;
}

/** Description and tags read back from annotations; a tags annotation that is not ours is ignored. */
export function metadataOf(annotations: Annotations): SecretMetadata {
  const metadata: { description?: string; tags?: Record<string, string> } = {};
  if (annotations[DESCRIPTION] !== undefined) metadata.description = annotations[DESCRIPTION];
  const tags = parseTags(annotations[TAGS]);
  if (tags) metadata.tags = tags;
  return metadata;
}

function parseTags(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // edited by hand: metadata only, never a reason to fail a read
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const entries = Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string");
  return Object.fromEntries(entries);
}

/**
 * An existing secret's annotations with ours written over them. Description and tags are kept
 * when this put gives none, removed when it gives them empty; annotations of others stay.
 */
export function mergeAnnotations(
  before: Annotations,
  wanted: Annotations,
  metadata: PutMetadata,
): Annotations {
  const after: Annotations = { ...before, ...wanted };
  if (metadata.description !== undefined && wanted[DESCRIPTION] === undefined) delete after[DESCRIPTION];
  if (metadata.tags !== undefined && wanted[TAGS] === undefined) delete after[TAGS];
  return after;
}

export function sameAnnotations(a: Annotations, b: Annotations): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
