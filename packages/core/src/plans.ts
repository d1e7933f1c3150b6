/**
 * The router's plans: the namespace levels a ref climbs, each with its rule and resolver. The memo
 * that keeps them (one per ref, decided once) is the cache's `ref-memo.ts`, re-exported here.
 */
import type { HitMemo } from "./cache/entry.js";
import type { CachedRef, Plan as MemoPlan } from "./cache/ref-memo.js";
import type { SecretRef } from "./ref.js";
import type { SecretResolver } from "./resolver.js";
import type { RouteRule } from "./router.js";
import type { SecretValue } from "./value.js";

/** The caching resolver's synchronous read of a live entry (see `peek` in cache/resolver.ts). */
export type PeekingResolver = SecretResolver & {
  peek(
    ref: SecretRef,
    id: string,
    memo: HitMemo,
  ): { readonly value: SecretValue; settled: Promise<SecretValue> | undefined } | null | undefined;
};

/** One namespace level the router looks a ref up at, in climbing order, with its rule and resolver. */
export interface PlannedLevel extends CachedRef {
  readonly rule: RouteRule;
  readonly resolver: PeekingResolver;
  /** What the resolve reports as the namespace the value was found in (a global backend: its rule). */
  readonly foundIn: string;
}

export { type CachedRef, cachedRef, PlanMemo } from "./cache/ref-memo.js";

/** A memoized plan; the router's levels by default. */
export type Plan<L extends CachedRef = PlannedLevel> = MemoPlan<L>;
