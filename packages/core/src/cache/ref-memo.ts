/**
 * The memo of how each ref read is looked up, decided once per ref instead of per resolve: its
 * validated copy, and the levels it is read at, each with its cache id and its last hit. A single
 * resolver reads one level (the ref's own); the router's levels are the namespaces it climbs. The
 * memo knows nothing of rules or routers: a level is anything that extends {@link CachedRef}.
 */
import { refId, type SecretRef, validateRef } from "../ref.js";
import type { HitMemo } from "./entry.js";

/** Where a ref is read: the validated ref, its cache id, and the resolver's memo of its last hit. */
export interface CachedRef extends HitMemo {
  readonly ref: SecretRef;
  readonly id: string;
}

/** The one level of a ref read from a single resolver. */
export function cachedRef(ref: SecretRef): CachedRef {
  return { ref, id: refId(ref), entry: undefined, touched: 0 };
}

/**
 * A validated ref read from its own namespace (no `caller` elsewhere) and the levels it climbs.
 * Rules and backends never change after construction, so a plan stays right for the router's life.
 */
export interface Plan<L extends CachedRef> {
  readonly ref: SecretRef;
  /** The ref's namespace and tenant, read on every lookup (a frozen ref reads slower). */
  readonly namespace: string;
  readonly tenant: string | undefined;
  readonly levels: readonly L[];
  /** `levels[0]`, read by every resolve: a field load instead of an array access. */
  readonly first: L | undefined;
  /** The plan of the same key in another namespace or tenant. */
  readonly next: Plan<L> | undefined;
  /** Plans in the chain from this one on. */
  readonly depth: number;
}

/** Plans kept before the memo is emptied: enough for any working set, bounded for hostile input. */
const MAX_PLANS = 10_000;
/** Plans of one key kept in its chain; a key read in more namespaces is looked up by id. */
const MAX_CHAIN = 8;

export class PlanMemo<L extends CachedRef> {
  /** key → its plans, chained (see {@link planFor}). */
  readonly #plans = new Map<string, Plan<L>>();
  /** Plans of keys whose chain is full, by ref id; and those keys. */
  readonly #crowded = new Map<string, Plan<L>>();
  readonly #crowdedKeys = new Set<string>();
  #count = 0;

  /** `levelsFor(ref)`: the levels a validated ref climbs, from its own namespace up. */
  constructor(private readonly levelsFor: (ref: SecretRef) => L[]) {}

  /**
   * The memoized plan of a ref read from its own namespace; `undefined` for a ref outside the
   * grammar (the slow path then throws the right error). One map lookup by key, then a short
   * chain (at most {@link MAX_CHAIN}) of the plans of that key in other namespaces or tenants: a
   * lookup of an existing string costs about as much as the rest of a cached resolve on a slow VM,
   * so nested maps (tenant → namespace → key) would cost three, and a joined key would build and
   * hash a new string on every call.
   */
  planFor(input: SecretRef): Plan<L> | undefined {
    const known = this.known(input);
    if (known !== undefined || typeof input !== "object" || input === null) return known;
    const { tenant, namespace, key } = input;
    let ref: SecretRef;
    try {
      ref = validateRef({ tenant, namespace, key });
    } catch {
      return undefined;
    }
    if (this.#count >= MAX_PLANS) {
      this.#plans.clear();
      this.#crowded.clear();
      this.#crowdedKeys.clear();
      this.#count = 0;
    }
    const chain = this.#plans.get(ref.key);
    this.#count++;
    if (chain === undefined || chain.depth < MAX_CHAIN) {
      const built = this.#build(ref, chain);
      this.#plans.set(ref.key, built);
      return built;
    }
    // A key read in many namespaces: past a few, its plans go by id (a string built per lookup).
    const built = this.#build(ref, undefined);
    this.#crowded.set(refId(ref), built);
    this.#crowdedKeys.add(ref.key);
    return built;
  }

  /**
   * The memoized plan of `input`, if any (the lookup half of {@link planFor}, small enough to
   * inline). Only a ref whose three fields are identical (`===`) to those of a ref the memo
   * validated is answered: anything else, `""` for "no tenant" included, goes to the path that
   * validates it. This is the one check before a memo or cache lookup; it is what validation would
   * say, without reading each character on every cached resolve.
   */
  known(input: SecretRef): Plan<L> | undefined {
    if (typeof input !== "object" || input === null) return undefined;
    const { tenant, namespace, key } = input;
    for (let plan = this.#plans.get(key); plan !== undefined; plan = plan.next) {
      if (plan.namespace === namespace && plan.tenant === tenant) return plan;
    }
    return this.#crowdedKeys.size === 0 ? undefined : this.#crowdedPlan(tenant, namespace, key);
  }

  /**
   * A crowded key's plan, by id. The plan found is compared field by field, as the chain's are:
   * the memo answers only an input identical to a ref it validated, so a memo hit is as good as
   * validating the input, and nothing depends on how ids are built (trust issue #18 point 2).
   */
  #crowdedPlan(tenant: unknown, namespace: unknown, key: unknown): Plan<L> | undefined {
    if (typeof key !== "string" || !this.#crowdedKeys.has(key) || typeof namespace !== "string")
      return undefined;
    if (tenant !== undefined && typeof tenant !== "string") return undefined;
    const plan = this.#crowded.get(refId({ tenant, namespace, key }));
    return plan !== undefined && plan.namespace === namespace && plan.tenant === tenant ? plan : undefined;
  }

  #build(ref: SecretRef, next: Plan<L> | undefined): Plan<L> {
    const levels = this.levelsFor(ref);
    // Not frozen: V8 reads frozen arrays and objects slower, and this one never leaves its owner.
    const depth = next === undefined ? 1 : next.depth + 1;
    return { ref, namespace: ref.namespace, tenant: ref.tenant, levels, first: levels[0], next, depth };
  }
}
