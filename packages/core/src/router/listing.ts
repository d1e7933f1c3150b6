/** Listing: the keys of a namespace (and, inherited, of its ancestors), nearest first, each once. */
import type { SecretBackend, SecretListing } from "../backend.js";
import { assertNamespace, assertTenant, namespaceChain } from "../ref.js";
import { servedLevels } from "./plans.js";
import { noRule, type RuleBook } from "./rules.js";

export interface ListedKey extends SecretListing {
  /** The namespace the key comes from (its own, or an ancestor with `inherited`). */
  readonly namespace: string;
  readonly backend: string;
}

export interface ListOptions {
  tenant?: string | undefined;
  inherited?: boolean;
}

/**
 * The keys listed in `namespace` (with `inherited`, also each ancestor's not shadowed nearer).
 * @throws InvalidReferenceError, ConfigurationError (no rule serves the namespace)
 */
export async function listKeys(
  rules: RuleBook,
  backends: Readonly<Record<string, SecretBackend>>,
  namespace: string,
  options: ListOptions,
): Promise<ListedKey[]> {
  assertNamespace(namespace);
  assertTenant(options.tenant);
  // As get and put: a namespace no rule serves is a configuration error, not an empty list. A rule
  // serves its namespace and everything below, so without one here there is none above either.
  if (!rules.ruleFor(namespace, options.tenant)) throw noRule({ namespace, tenant: options.tenant });
  const namespaces = options.inherited ? namespaceChain(namespace) : [namespace];
  const seen = new Set<string>();
  const listed: ListedKey[] = [];
  for (const level of servedLevels(rules, backends, namespaces, options.tenant)) {
    const backend = backends[level.rule.backend];
    if (!backend?.list) continue;
    for (const item of await backend.list(level.namespace, { tenant: options.tenant })) {
      const id = backend.capabilities.caseSensitiveKeys ? item.key : item.key.toUpperCase();
      if (seen.has(id)) continue;
      seen.add(id);
      listed.push({ ...item, namespace: level.foundIn, backend: level.rule.backend });
    }
  }
  return listed;
}
