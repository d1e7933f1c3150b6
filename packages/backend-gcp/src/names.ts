/**
 * The name mapping: (prefix, tenant, namespace, key) ⇄ a Secret Manager secret id, whose alphabet
 * is only `[A-Za-z0-9_-]` (1–255 characters). `_` is the escape character:
 *
 * - inside each part, a literal `_` is written `__` (`-`, letters and digits stay as they are);
 * - `_t` starts the tenant (absent without a tenant), `_n` the namespace, `_d` stands for each dot
 *   of the namespace, `_k` starts the key.
 *
 * `keyway` / tenant `acme` / `company.team` / `DB_PASSWORD` → `keyway_tacme_ncompany_dteam_kDB__PASSWORD`.
 * Read left to right, `__` and the markers never overlap, so every id decodes to exactly one ref:
 * the mapping is reversible and collision-free. The id is the source of truth; annotations repeat
 * the parts for people, and a label holds a hash of (prefix, tenant, namespace) for server-side
 * filtering of `list`.
 */
import { createHash } from "node:crypto";
import {
  InvalidReferenceError,
  isValidKey,
  isValidNamespace,
  isValidTenant,
  type SecretRef,
} from "@keyway/core/backend";

/** Secret Manager's limit on a secret id. */
export const MAX_SECRET_ID_LENGTH = 255;
/** What a secret id may contain. */
export const SECRET_ID_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;
/** What a prefix may contain (it is escaped like every other part). */
export const PREFIX_PATTERN = /^[A-Za-z0-9_-]{0,100}$/;

/** The label whose value is {@link namespaceLabel}: one per (prefix, tenant, namespace). */
export const NAMESPACE_LABEL = "keyway-ns";

/** The parts an id encodes. */
export interface DecodedSecretId {
  readonly prefix: string;
  readonly tenant?: string | undefined;
  readonly namespace: string;
  readonly key: string;
}

const escapePart = (part: string) => part.replaceAll("_", "__");

/** The secret id of `ref` under `prefix`, whatever its length (see `secretIdFor`). */
export function encodeSecretId(prefix: string, ref: SecretRef): string {
  const tenant = ref.tenant === undefined ? "" : `_t${escapePart(ref.tenant)}`;
  const namespace = ref.namespace === "" ? "" : ref.namespace.split(".").map(escapePart).join("_d");
  return `${escapePart(prefix)}${tenant}_n${namespace}_k${escapePart(ref.key)}`;
}

/**
 * The secret id of `ref`, checked against Secret Manager's 255 characters.
 * @throws InvalidReferenceError when the id would be longer: it is never truncated, since a
 *   truncated id could name another secret.
 */
export function secretIdFor(prefix: string, ref: SecretRef, backend?: string): string {
  const id = encodeSecretId(prefix, ref);
  if (id.length > MAX_SECRET_ID_LENGTH) {
    throw new InvalidReferenceError(
      `Secret '${ref.key}' in namespace '${ref.namespace}' maps to a Google Secret Manager id of ${id.length} characters; ` +
        `the limit is ${MAX_SECRET_ID_LENGTH}. Use a shorter key, namespace or prefix.`,
      { backend },
    );
  }
  return id;
}

/** The parts of an id made by {@link encodeSecretId}, or undefined for any other id. */
export function decodeSecretId(id: string): DecodedSecretId | undefined {
  if (!SECRET_ID_PATTERN.test(id)) return undefined;
  const parts: Record<"prefix" | "tenant" | "namespace" | "key", string | undefined> = {
    prefix: "",
    tenant: undefined,
    namespace: undefined,
    key: undefined,
  };
  let field: keyof typeof parts = "prefix";
  let current = "";
  // Markers must come in this order: [_t] _n (_d)* _k.
  const next: Record<string, ReadonlyArray<keyof typeof parts>> = {
    prefix: ["tenant", "namespace"],
    tenant: ["namespace"],
    namespace: ["key"],
    key: [],
  };
  const marker: Record<string, keyof typeof parts> = { t: "tenant", n: "namespace", k: "key" };
  for (let i = 0; i < id.length; i++) {
    const c = id[i] as string;
    if (c !== "_") {
      current += c;
      continue;
    }
    const m = id[++i];
    if (m === "_") current += "_";
    else if (m === "d" && field === "namespace") {
      if (current === "" || current.endsWith(".")) return undefined;
      current += ".";
    } else {
      const to = m === undefined ? undefined : marker[m];
      if (!to || !next[field]?.includes(to)) return undefined;
      parts[field] = current;
      field = to;
      current = "";
    }
  }
  if (field !== "key") return undefined;
  const { prefix = "", tenant, namespace } = parts;
  if (
    !isValidNamespace(namespace) ||
    (tenant !== undefined && !isValidTenant(tenant)) ||
    !isValidKey(current)
  ) {
    return undefined;
  }
  const decoded =
    tenant === undefined ? { prefix, namespace, key: current } : { prefix, tenant, namespace, key: current };
  // Only ids this module would write are ours (e.g. a tenant in capitals was written by someone else).
  return encodeSecretId(prefix, decoded) === id ? decoded : undefined;
}

/**
 * The value of the `NAMESPACE_LABEL` label: a short hash, because labels allow only 63
 * lower-case characters and namespaces are longer and mixed-case. Only a filter: `list` checks
 * every id it gets back, so a server that ignores the filter still gives the right answer.
 */
export function namespaceLabel(prefix: string, tenant: string | undefined, namespace: string): string {
  return createHash("sha256")
    .update(JSON.stringify([prefix, tenant ?? null, namespace]))
    .digest("hex")
    .slice(0, 32);
}
