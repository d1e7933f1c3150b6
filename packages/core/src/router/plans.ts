/**
 * Plans: the levels a ref is read at, decided once. A level is a namespace of the ref's chain, from
 * its own up, that a rule serves and the caller may read, in its rule's backend, with its cache id;
 * a global backend (env), the same at every level, is asked once, at its first level. A read from
 * the ref's own namespace (the hot path) is planned once per ref and memoized.
 */
import type { SecretBackend } from "../backend.js";
import type { HitMemo } from "../cache/entry.js";
import { type CachedRef, type Plan, PlanMemo } from "../cache/ref-memo.js";
import type { SearchedLevel } from "../errors.js";
import { namespaceChain, refId, type SecretRef } from "../ref.js";
import type { SecretResolver } from "../resolver.js";
import type { SecretValue } from "../value.js";
import { assertMayRead, mayRead } from "./access.js";
import type { RouteRule, RuleBook } from "./rules.js";

/**
 * The caching resolver as the router uses it: its synchronous read of a live entry (`peek`) and its
 * version probe for watches (`probe`), both in cache/resolver.ts.
 */
export type PeekingResolver = SecretResolver & {
  peek(
    ref: SecretRef,
    id: string,
    memo: HitMemo,
  ): { readonly value: SecretValue; settled: Promise<SecretValue> | undefined } | null | undefined;
  probe(ref: SecretRef, signal: AbortSignal): Promise<string | SecretValue>;
};

/** One namespace level the router looks a ref up at, in climbing order, with its rule and resolver. */
export interface PlannedLevel extends CachedRef {
  readonly rule: RouteRule;
  readonly resolver: PeekingResolver;
  /** What the resolve reports as the namespace the value was found in (a global backend: its rule). */
  readonly foundIn: string;
}

/** A level a rule serves: the namespace, its rule, and the namespace a value found there is reported in. */
export interface ServedLevel {
  readonly namespace: string;
  readonly rule: RouteRule;
  readonly foundIn: string;
}

/**
 * The namespaces of `namespaces` (in order) that a rule serves for `tenant` and `include` accepts,
 * each with its rule. A global backend holds the same keys at every level, so it is asked (or
 * listed) once, at its first level, and what it holds is reported in its rule's namespace.
 */
export function servedLevels(
  rules: RuleBook,
  backends: Readonly<Record<string, SecretBackend>>,
  namespaces: readonly string[],
  tenant: string | undefined,
  include: (namespace: string) => boolean = () => true,
): ServedLevel[] {
  const levels: ServedLevel[] = [];
  const askedGlobal = new Set<string>();
  for (const namespace of namespaces) {
    const rule = rules.ruleFor(namespace, tenant);
    if (!rule || !include(namespace)) continue;
    const global = backends[rule.backend]?.capabilities.global === true;
    if (global) {
      if (askedGlobal.has(rule.backend)) continue;
      askedGlobal.add(rule.backend);
    }
    levels.push({ namespace, rule, foundIn: global ? rule.match : namespace });
  }
  return levels;
}

/**
 * How one read of a validated ref climbs: its levels, of which {@link climbEnd} are read. A
 * memoized plan is one (a read from the ref's own namespace allocates none).
 */
export interface ClimbPlan {
  readonly ref: SecretRef;
  readonly levels: readonly PlannedLevel[];
}

/**
 * The levels a read climbs: all, or with `inherit: false` the first only, which is the ref's own
 * namespace (a rule serving an ancestor serves the namespace too, so the first level with a rule
 * is the ref's).
 */
export function climbEnd(levels: readonly unknown[], inherit: boolean | undefined): number {
  return inherit === false ? Math.min(levels.length, 1) : levels.length;
}

/** Plans reads for one router: the memo for reads from the ref's own namespace, and the rest per call. */
export class Planner {
  /** Reads from the ref's own namespace, the hot path: planned once per ref. */
  readonly memo: PlanMemo<PlannedLevel>;

  constructor(
    private readonly rules: RuleBook,
    private readonly backends: Readonly<Record<string, SecretBackend>>,
    private readonly resolvers: ReadonlyMap<string, SecretResolver>,
  ) {
    this.memo = new PlanMemo<PlannedLevel>((ref) => this.#levels(ref, ref.namespace));
  }

  /**
   * The plan of a read of the validated `ref` by `caller` (`undefined`: its own namespace).
   * @throws InvalidReferenceError (a caller outside the grammar), AccessDeniedError
   */
  plan(ref: SecretRef, caller: string | undefined): ClimbPlan {
    assertMayRead(this.rules, caller, ref);
    return caller === undefined || caller === ref.namespace
      ? (this.memo.planFor(ref) as Plan<PlannedLevel>)
      : { ref, levels: this.#levels(ref, caller) };
  }

  /**
   * The namespaces a read of `ref` by `caller` looks in, with each one's backend, for a not-found
   * message: every level a rule serves and the caller may read, a global backend's included.
   */
  searched(ref: SecretRef, caller: string | undefined, inherit: boolean | undefined): SearchedLevel[] {
    const from = caller ?? ref.namespace;
    const namespaces = inherit === false ? [ref.namespace] : namespaceChain(ref.namespace);
    return namespaces.flatMap((namespace) => {
      const rule = this.rules.ruleFor(namespace, ref.tenant);
      return rule && mayRead(this.rules, from, namespace, ref.tenant)
        ? [{ namespace, backend: rule.backend }]
        : [];
    });
  }

  #levels(ref: SecretRef, caller: string): PlannedLevel[] {
    const served = servedLevels(this.rules, this.backends, namespaceChain(ref.namespace), ref.tenant, (ns) =>
      mayRead(this.rules, caller, ns, ref.tenant),
    );
    return served.map(({ namespace, rule, foundIn }) => {
      // An ancestor of a valid namespace is valid: the ref is not validated again per level.
      const levelRef = Object.freeze(
        ref.tenant === undefined
          ? { namespace, key: ref.key }
          : { tenant: ref.tenant, namespace, key: ref.key },
      );
      return {
        rule,
        resolver: this.resolvers.get(rule.backend) as PeekingResolver,
        ref: levelRef,
        id: refId(levelRef),
        foundIn,
        entry: undefined,
        touched: 0,
      };
    });
  }
}
