/** The resolver's cache entries, and the clock their times come from. */
import type { SecretValue } from "../value.js";

/**
 * A cache entry: a value, or a cached not-found (`value` undefined). One exists per cached secret,
 * so it is kept to five fields, and its times to integers where the clock gives integers (V8 keeps
 * small integers in the object; other numbers each take a separate 16-byte box).
 */
export class Entry {
  /**
   * A promise settled with `value`, made on the first hit and returned by every later one.
   * Settling a new promise with an object looks `then` up along the object's prototype chain; on
   * a hit that lookup and the allocation cost as much as the cache lookup itself. A settled promise
   * cannot change, so handing the same one to every caller is safe (only `===` between two results
   * can tell).
   */
  settled: Promise<SecretValue> | undefined = undefined;

  constructor(
    readonly value: SecretValue | undefined,
    /**
     * When it stops being live: the `start` the resolver gives `lru-cache` for it plus its TTL, so
     * a hit tests liveness from the entry it got, without a second lookup (`getRemainingTTL`).
     */
    readonly expiresAt: number,
    /**
     * Until when a hit needs nothing but counting: live, not stale, not yet in the refresh-ahead
     * window (a not-found: until it expires). One comparison on the hot path; later hits take the
     * full path, which decides exactly. For stale values it is the entry's start: a clock never
     * reads earlier. Zeroed when the entry leaves the cache, so a {@link HitMemo} of it stops
     * hitting.
     */
    public hotUntil: number,
    /**
     * When the value was last registered with the redactor (the cache's clock, ticks after the
     * last time the redactor was seen dropping registrations). A hit registers the value again
     * when the redactor may have dropped it since, or when half the redactor's `maxAgeMs` has
     * passed (see `renewAfter` in registrations.ts); {@link hotUntil} never goes past that half.
     */
    public registeredAt: number,
  ) {}

  /** When the value stops being fresh: when it expires, except in a stale-if-error entry. */
  get freshUntil(): number {
    return this.expiresAt;
  }
}

/** An entry `peek` (resolver.ts) found live, holding a value. */
export type LiveValue = Entry & { readonly value: SecretValue };

/**
 * Where a caller that reads one ref again and again (the router, per planned level) lets `peek`
 * keep the entry of that ref's last hit (a value or a not-found). While that entry is hot it is
 * the answer, without the `lru-cache` lookup, which was half of a cached resolve through the
 * router. Its recency in the cache is still renewed, once per millisecond. Holds at most one
 * evicted entry until the next hit.
 * @internal
 */
export interface HitMemo {
  entry: Entry | undefined;
  /** The (coarse) time the entry's recency was last renewed. */
  touched: number;
}

/** A stale-if-error entry: live until the next retry, fresh only as long as the value it keeps. */
export class FallbackEntry extends Entry {
  constructor(
    value: SecretValue,
    expiresAt: number,
    hotUntil: number,
    registeredAt: number,
    readonly fresh: number,
  ) {
    super(value, expiresAt, hotUntil, registeredAt);
  }

  override get freshUntil(): number {
    return this.fresh;
  }
}

/** A value entry's hot bound (see {@link Entry.hotUntil}), rounded down so it is never late. */
export function hotBound(
  value: SecretValue,
  start: number,
  expiresAt: number,
  freshUntil: number,
  window: number,
) {
  if (value.stale) return start;
  return Math.floor(window > 0 ? Math.min(expiresAt, freshUntil - window) : expiresAt);
}

/**
 * `performance.now()` costs 60–80 ns on VMs without a vDSO clock, about as much as a whole cache
 * hit, and every hit needs the time (liveness, refresh-ahead). This clock reads it at most once per
 * millisecond: the value, in whole milliseconds, is kept until an unref'd 1 ms timer clears it,
 * which is what `lru-cache` does for its own TTLs with `ttlResolution: 1`. Whole milliseconds keep
 * the times stored in entries small integers. An injected clock is read on every call.
 */
export const coarseClock: { now(): number } = (() => {
  let cached = 0;
  const clear = () => {
    cached = 0;
  };
  return {
    now(): number {
      if (cached === 0) {
        cached = Math.floor(performance.now());
        setTimeout(clear, 1).unref();
      }
      return cached;
    },
  };
})();
