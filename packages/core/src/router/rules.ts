/**
 * The rules room: what a `namespaces:` rule is, its validation (one place, used by the router and
 * by the config loader), and the lookup of the rule that serves a namespace for a tenant (longest
 * prefix on whole segments, per tenant).
 */
import type { BackendCapabilities } from "../backend.js";
import { ConfigurationError } from "../errors.js";
import { isValidNamespace, isValidTenant, isWithinNamespace, namespaceChain, refId } from "../ref.js";

/** One `namespaces:` entry of `keyway.yaml`. */
export interface RouteRule {
  /** This namespace and all below it (`""`: the root, i.e. everything not matched otherwise). */
  readonly match: string;
  /** Serves only refs of this tenant; without it, only refs without a tenant. */
  readonly tenant?: string | undefined;
  /** The name of the backend that serves it. */
  readonly backend: string;
  /** Refuse writes. @default false */
  readonly readOnly?: boolean | undefined;
  /** Other namespaces (and those below them) that may read here with `namespace='…'`. */
  readonly allowedNamespaces?: readonly string[] | undefined;
  /** Replicas, asked in order only when the primary is unavailable. */
  readonly fallback?: readonly string[] | undefined;
  /** Lets a tenant rule use a backend that ignores tenants (env). @default false */
  readonly shared?: boolean | undefined;
}

/**
 * What is wrong with one rule: where (`path` inside the rule list, e.g. `[2, "fallback", 0]`) and
 * why. The reason never quotes the field's value (a config `${VAR}` may have put a secret there);
 * backend names are quoted, as they name a `backends:` entry.
 */
export interface RuleProblem {
  readonly path: readonly [number, ...(string | number)[]];
  readonly reason: string;
}

/** What rule validation needs of a backend: whether it is defined, and whether it ignores tenants. */
export type BackendLookup = (
  name: string,
) => { readonly capabilities: Partial<BackendCapabilities> } | undefined;

/**
 * The first problem of a rule list, in order, or `undefined` when every rule is valid: the grammar
 * of `match`, `tenant` and `allowedNamespaces`, backends (and replicas) defined, one rule per match
 * and tenant, and a tenant rule on a backend that ignores tenants only with `shared: true`.
 */
export function findRuleProblem(
  rules: readonly RouteRule[],
  backendOf: BackendLookup,
): RuleProblem | undefined {
  const seen = new Set<string>();
  for (const [i, rule] of rules.entries()) {
    if (!isValidNamespace(rule.match))
      return {
        path: [i, "match"],
        reason: 'Invalid namespace: use dot-separated segments of A-Z a-z 0-9 _ -, or "" for the root.',
      };
    if (rule.tenant !== undefined && !isValidTenant(rule.tenant))
      return { path: [i, "tenant"], reason: "Invalid tenant: use [a-z0-9][a-z0-9-]{0,62}." };
    const id = refId({ tenant: rule.tenant, namespace: rule.match, key: "" });
    if (seen.has(id)) return { path: [i, "match"], reason: "another rule has the same match and tenant." };
    seen.add(id);
    const names: Array<[string, (string | number)[]]> = [
      [rule.backend, ["backend"]],
      ...(rule.fallback ?? []).map((name, j): [string, (string | number)[]] => [name, ["fallback", j]]),
    ];
    for (const [name, at] of names) {
      const backend = backendOf(name);
      if (!backend) return { path: [i, ...at], reason: `backend '${name}' is not defined in 'backends'.` };
      if (backend.capabilities.global && rule.tenant !== undefined && !rule.shared)
        return {
          path: [i, ...at],
          reason: `backend '${name}' ignores tenants; set 'shared: true' to let this tenant use it.`,
        };
    }
    for (const [j, ns] of (rule.allowedNamespaces ?? []).entries()) {
      if (!isValidNamespace(ns))
        return {
          path: [i, "allowedNamespaces", j],
          reason: "allowedNamespaces: Invalid namespace: use dot-separated segments of A-Z a-z 0-9 _ -.",
        };
    }
  }
  return undefined;
}

/** A rule problem's path as the config file spells it: `namespaces[2].fallback[0]`. */
export function rulePath(problem: RuleProblem): string {
  return `namespaces${problem.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}`;
}

/** The rules of one router, validated once, and the memoized lookup of the rule serving a namespace. */
export class RuleBook {
  readonly rules: readonly RouteRule[];
  readonly #memo = new Map<string, RouteRule | null>();

  /** @throws ConfigurationError naming the first invalid rule (its index, field and `match`). */
  constructor(rules: readonly RouteRule[], backendOf: BackendLookup) {
    const problem = findRuleProblem(rules, backendOf);
    if (problem) {
      const rule = rules[problem.path[0]] as RouteRule;
      const match = typeof rule.match === "string" ? ` (match '${rule.match}')` : "";
      throw new ConfigurationError(`${rulePath(problem)}${match}: ${problem.reason}`);
    }
    this.rules = rules.map((rule) => Object.freeze({ ...rule }));
  }

  /** The rule that serves a namespace for a tenant, if any: the longest match of that tenant. */
  ruleFor(namespace: string, tenant?: string): RouteRule | undefined {
    // A public entry: anything but strings serves nothing, and the memo key is injective (`""` is
    // not "no tenant", trust issue #18 point 2), so the answer never depends on what came before.
    if (typeof namespace !== "string" || (tenant !== undefined && typeof tenant !== "string"))
      return undefined;
    const memoKey = refId({ tenant, namespace, key: "" });
    let rule = this.#memo.get(memoKey);
    if (rule === undefined) {
      rule = null;
      for (const candidate of this.rules) {
        if (candidate.tenant !== tenant || !isWithinNamespace(namespace, candidate.match)) continue;
        if (!rule || candidate.match.length > rule.match.length) rule = candidate;
      }
      if (this.#memo.size > 10_000) this.#memo.clear();
      this.#memo.set(memoKey, rule);
    }
    return rule ?? undefined;
  }

  /** The rule of the nearest namespace, from `namespace` up, that has one. */
  firstRule(namespace: string, tenant: string | undefined): RouteRule | undefined {
    for (const level of namespaceChain(namespace)) {
      const rule = this.ruleFor(level, tenant);
      if (rule) return rule;
    }
    return undefined;
  }
}

/** The error for a namespace no rule serves (for that tenant). */
export function noRule(ref: {
  readonly namespace: string;
  readonly tenant?: string | undefined;
}): ConfigurationError {
  const who = ref.tenant === undefined ? "" : ` for tenant '${ref.tenant}'`;
  return new ConfigurationError(
    `No rule serves namespace '${ref.namespace}'${who}: add one to 'namespaces'.`,
  );
}
