/** What the API and the console say about a namespace: its keys, where they come from, and its rule. */
import { type ListedKey, ReadOnlyError, type RouteRule, type Router } from "@keyway/core";

/** A secret's description (never its value), as listed. */
export interface SecretSummary {
  readonly key: string;
  readonly description?: string | undefined;
  readonly tags: ReadonlyArray<{ readonly key: string; readonly value: string }>;
  /** The namespace it is stored in (an ancestor's for an inherited one). */
  readonly namespace: string;
  /** The backend that serves it. */
  readonly backend: string;
  readonly inherited: boolean;
}

export function summarize(item: ListedKey, namespace: string): SecretSummary {
  const tags = Object.entries(item.metadata.tags ?? {}).map(([key, value]) => ({ key, value }));
  return {
    key: item.key,
    ...(item.metadata.description === undefined ? {} : { description: item.metadata.description }),
    tags,
    namespace: item.namespace,
    backend: item.backend,
    inherited: item.namespace !== namespace,
  };
}

/** True when writes to the namespace are refused (a read-only rule, or a backend without writes). */
export function isReadOnly(router: Router, namespace: string, tenant: string | undefined): boolean {
  try {
    router.assertWritable(namespace, tenant);
    return false;
  } catch (error) {
    if (error instanceof ReadOnlyError) return true;
    throw error;
  }
}

/** The namespace's own secrets and, with `inherited`, its ancestors' (nearest wins), sorted by key. */
export async function secretsOf(
  router: Router,
  namespace: string,
  tenant: string | undefined,
  inherited: boolean,
): Promise<SecretSummary[]> {
  const listed = await router.list(namespace, { tenant, inherited });
  return listed.map((item) => summarize(item, namespace)).sort(byKey);
}

const byKey = (a: SecretSummary, b: SecretSummary) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/**
 * The namespaces to show in a tree for a tenant: every rule's match and its ancestors, plus the
 * namespaces seen (the one shown and where its keys come from). The root rule (`""`) is left out:
 * Kestra namespaces are never empty.
 */
export function namespaceTree(
  rules: readonly RouteRule[],
  tenant: string | undefined,
  seen: Iterable<string> = [],
): string[] {
  const names = new Set<string>();
  const add = (namespace: string) => {
    const parts = namespace.split(".");
    for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join("."));
  };
  for (const rule of rules) if (rule.tenant === tenant && rule.match !== "") add(rule.match);
  for (const namespace of seen) if (namespace !== "") add(namespace);
  return [...names].sort();
}

/** The tenants the rules name (`undefined` for rules without one), for the console's switcher. */
export function tenantsOf(rules: readonly RouteRule[]): Array<string | undefined> {
  const tenants = new Set<string | undefined>();
  for (const rule of rules) tenants.add(rule.tenant);
  return [...tenants].sort((a, b) => (a ?? "").localeCompare(b ?? ""));
}
