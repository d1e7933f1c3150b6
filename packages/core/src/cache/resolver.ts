/**
 * The caching resolver over one backend, and its hit path. `lru-cache`'s `fetch` gives
 * single-flight; the load path (`load.ts`) adds jittered TTL, refresh-ahead for hot keys, a
 * negative cache and bounded stale-if-error; the backend call (`call/pipeline.ts`) adds deadlines,
 * retries, batching, the circuit breaker and telemetry.
 */
import type { LRUCache } from "lru-cache";
import type { PrepareOptions, SecretBackend } from "../backend.js";
import { SecretNotFoundError, type SecretsError, type SecretsErrorCode } from "../errors.js";
import { createRedactor } from "../redact/index.js";
import type { Redactor } from "../redact/types.js";
import { assertSubkey, refId, type SecretRef, validateRef } from "../ref.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "../resolver.js";
import { subkeyValue } from "../subkey.js";
import type { SecretValue } from "../value.js";
import { BackendCall } from "./call/pipeline.js";
import { dropCached, prepareBackend, probeBackend } from "./direct.js";
import { coarseClock, type Entry, type HitMemo, type LiveValue } from "./entry.js";
import { cacheChannel, publishCache } from "./events.js";
import { toSecretsError } from "./failure.js";
import { Loader } from "./load.js";
import { cacheSettings, type ResolverOptions } from "./options.js";
import { type CachedRef, cachedRef, PlanMemo } from "./ref-memo.js";
import { Registrations } from "./registrations.js";

/** Shared default options: a resolve without options allocates none. */
const NO_OPTIONS: ResolveOptions = Object.freeze({});

/**
 * Wraps one backend in a caching resolver.
 * @example
 * const resolver = createResolver({ backend: createEnvBackend(), cache: { ttlMs: 60_000 } });
 * const token = await resolver.resolve({ namespace: "company.team", key: "API_TOKEN" });
 * token.reveal();
 */
export function createResolver(options: ResolverOptions): SecretResolver {
  return new CachingResolver(options);
}

class CachingResolver implements SecretResolver {
  readonly redactor: Redactor;
  readonly #backend: SecretBackend;
  /**
   * Entry starts, freshness, liveness on a hit, refresh-ahead, stale-if-error: the injected clock
   * (which `lru-cache` then reads too, on every call, so both agree exactly), else
   * {@link coarseClock} (`lru-cache` keeps its own 1 ms memo of `performance`, as it always did; the
   * two agree to within that millisecond).
   */
  readonly #ttlClock: { now(): number };
  readonly #timeoutMs: number;
  readonly #call: BackendCall;
  readonly #loader: Loader;
  /** The loader's cache, read by every hit: a field of its own saves a load per hit. */
  readonly #cache: LRUCache<string, Entry, unknown>;
  readonly #refreshWindow: number;
  readonly #registrations: Registrations;
  // Counters as fields of the resolver, not of a stats object: one load and store less per hit.
  #hits = 0;
  #negativeHits = 0;
  #staleServed = 0;
  /** `NOT_FOUND` errors of cached not-founds read by {@link peek}, added to `errors` by `stats()`. */
  #cachedNotFound = 0;
  readonly #errors: Partial<Record<SecretsErrorCode, number>> = {};
  readonly #plans = new PlanMemo<CachedRef>((ref) => [cachedRef(ref)]);

  constructor(options: ResolverOptions) {
    this.#backend = options.backend;
    const clock = options.cache?.clock ?? performance;
    this.#ttlClock = options.cache?.clock ?? coarseClock;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.redactor = options.redactor ?? createRedactor();
    this.#registrations = new Registrations(this.redactor);
    const random = options.cache?.random ?? Math.random;
    this.#call = new BackendCall(this.#backend, {
      timeoutMs: this.#timeoutMs,
      retry: options.retry,
      breaker: options.breaker,
      clock,
      random,
    });
    this.#loader = new Loader({
      backend: this.#backend.name,
      settings: cacheSettings(options.cache),
      clock,
      injectedClock: options.cache?.clock !== undefined,
      ttlClock: this.#ttlClock,
      random,
      timeoutMs: this.#timeoutMs,
      call: this.#call,
      registrations: this.#registrations,
    });
    this.#cache = this.#loader.cache as LRUCache<string, Entry, unknown>;
    this.#refreshWindow = this.#loader.refreshWindow;
  }

  /**
   * Not `async`: a cached value is returned through one already-settled promise, without the
   * promise, microtask hops and deadline timer of the general path (the cached-resolve benchmark
   * compares this with a raw `lru-cache` hit). Everything else goes through {@link #resolveAsync}.
   */
  resolve(input: SecretRef, options: ResolveOptions = NO_OPTIONS): Promise<SecretValue> {
    if (options.subkey === undefined && options.version === undefined) {
      // A call without options (the router always passes some) reads the ref's memoized plan:
      // validated once, with its id and its last hit (see `HitMemo`).
      const level = options === NO_OPTIONS ? this.#plans.planFor(input)?.first : undefined;
      let ref: SecretRef;
      try {
        ref = level?.ref ?? validateRef(input);
      } catch (error) {
        return Promise.reject(this.#failed(error));
      }
      const id = level?.id ?? refId(ref);
      const hit = this.peek(ref, id, level);
      if (hit !== undefined && hit !== null) {
        hit.settled ??= Promise.resolve(hit.value);
        return hit.settled;
      }
      // A cached not-found, already counted by peek: the same error the general path throws.
      if (hit === null) {
        const error = new SecretNotFoundError(ref.key, { backend: this.#backend.name });
        return Promise.reject(this.redactor.redactError(error));
      }
      // Not cached: straight to the fetch, without validating or looking up again.
      return this.#loader.fetch(ref, id, undefined, options, (error) => this.#failed(error));
    }
    return this.#resolveAsync(input, options);
  }

  /**
   * The synchronous part of a resolve: the live cache entry of `ref` (whose id is `id`), with the
   * same stats, telemetry and refresh-ahead as {@link resolve}. Returns the entry (its `value`, and
   * its `settled` promise to reuse); `null` for a cached not-found (counted as a `NOT_FOUND` error,
   * as `resolve` would); `undefined` when there is no live entry and the caller must go to the
   * backend. `ref` must be validated.
   * @internal The router calls it for each namespace level before going async.
   */
  peek(ref: SecretRef, id: string, memo?: HitMemo): LiveValue | null | undefined {
    const now = this.#ttlClock.now();
    const registrations = this.#registrations;
    if (this.redactor.generation !== registrations.generation) registrations.forgot(now);
    const last = memo?.entry;
    if (last !== undefined && now < last.hotUntil) {
      if ((memo as HitMemo).touched !== now) {
        (memo as HitMemo).touched = now;
        this.#cache.get(id); // renews its recency
      }
      return this.#hotHit(ref, last, now);
    }
    // One lookup instead of `getRemainingTTL(id) > 0` then `get(id)`: two lookups were a third of
    // a hit's cost. A returned entry has moved to most recently used, as before.
    const entry = this.#cache.get(id);
    if (entry === undefined) return undefined;
    if (now < entry.hotUntil) {
      if (memo !== undefined) {
        memo.entry = entry;
        memo.touched = now;
      }
      return this.#hotHit(ref, entry, now);
    }
    return this.#peekNotHot(ref, id, entry, now);
  }

  /** A hit of a hot entry: its value, or `null` for a cached not-found (counted as `peek` says). */
  #hotHit(ref: SecretRef, entry: Entry, now: number): LiveValue | null {
    if (entry.value === undefined) return this.#negativeHit(ref);
    // A hot entry is within its renewal time (`hotUntil` never passes it); only a drop counts.
    if (entry.registeredAt <= this.#registrations.forgottenAt)
      this.#registrations.register(ref, entry as LiveValue, now);
    this.#hits++;
    if (cacheChannel.hasSubscribers) publishCache(this.#backend.name, ref, "hit");
    return entry as LiveValue;
  }

  #negativeHit(ref: SecretRef): null {
    this.#negativeHits++;
    if (cacheChannel.hasSubscribers) publishCache(this.#backend.name, ref, "negative-hit");
    this.#cachedNotFound++;
    return null;
  }

  /**
   * {@link peek} for an entry past its hot bound: not live any more, a not-found, a stale value, or
   * due for a refresh. Apart so that `peek` stays small enough for V8 to inline it, and the cache
   * lookup into it, where it is called.
   */
  #peekNotHot(ref: SecretRef, id: string, entry: Entry, now: number): LiveValue | null | undefined {
    // lru-cache keeps an entry up to and including its expiry instant; getRemainingTTL(id) > 0,
    // the test this replaces, stops just before it.
    if (!(entry.expiresAt - now > 0)) return undefined;
    if (entry.value === undefined) return this.#negativeHit(ref);
    return this.#valueHit(ref, id, entry as LiveValue, now, true);
  }

  /**
   * A hit of a live value entry that is not hot: registered again when due (and hot again until
   * its next renewal, with `rehot`), counted, and refreshed ahead when near its expiry.
   */
  #valueHit(ref: SecretRef, id: string, entry: LiveValue, now: number, rehot: boolean): LiveValue {
    const value = entry.value;
    const registrations = this.#registrations;
    if (registrations.due(entry, now)) {
      registrations.register(ref, entry, now);
      // Hot again until its next renewal (a stale value never is: see `hotBound`). The entry was
      // just read from the cache, so it is live: this never revives an evicted entry's memo.
      if (rehot && !value.stale)
        entry.hotUntil = registrations.hotUntil(
          value,
          0,
          entry.expiresAt,
          entry.freshUntil,
          this.#refreshWindow,
          entry.registeredAt,
        );
    }
    this.#hits++;
    if (value.stale) this.#staleServed++;
    else if (this.#refreshWindow > 0 && entry.freshUntil - now <= this.#refreshWindow)
      this.#loader.refreshAhead(ref, id);
    if (cacheChannel.hasSubscribers) publishCache(this.#backend.name, ref, value.stale ? "stale" : "hit");
    return entry;
  }

  async #resolveAsync(input: SecretRef, options: ResolveOptions): Promise<SecretValue> {
    try {
      const ref = validateRef(input);
      assertSubkey(options.subkey); // part of the reference: checked before the cache is read
      const value = await this.#resolveValue(ref, options);
      if (options.subkey === undefined) return value;
      return subkeyValue(value, ref.key, options.subkey, this.redactor);
    } catch (error) {
      throw this.#failed(error);
    }
  }

  async resolveMany(
    refs: readonly SecretRef[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Map<SecretRef, SecretValue | SecretsError>> {
    const results = await Promise.allSettled(refs.map((ref) => this.resolve(ref, options)));
    const out = new Map<SecretRef, SecretValue | SecretsError>();
    refs.forEach((ref, i) => {
      const result = results[i];
      if (result)
        out.set(ref, result.status === "fulfilled" ? result.value : (result.reason as SecretsError));
    });
    return out;
  }

  invalidate(ref: SecretRef): void {
    dropCached(this.#cache, ref, this.#backend.capabilities.caseSensitiveKeys);
  }

  stats(): ResolverStats {
    const loader = this.#loader;
    const errors = { ...this.#errors };
    if (this.#cachedNotFound > 0) errors.NOT_FOUND = (errors.NOT_FOUND ?? 0) + this.#cachedNotFound;
    return {
      hits: this.#hits,
      negativeHits: this.#negativeHits,
      misses: loader.misses,
      staleServed: this.#staleServed + loader.staleServed,
      refreshes: loader.refreshes,
      backendCalls: this.#call.sent,
      errors,
      size: this.#cache.size,
    };
  }

  prepare(options: PrepareOptions = {}): Promise<void> {
    return prepareBackend(this.#backend, options, this.redactor);
  }

  /**
   * One version probe of `ref` for `router.watch` (see watch/poller.ts and `probeBackend`).
   * `ref` must be validated.
   * @internal
   */
  probe(ref: SecretRef, signal: AbortSignal): Promise<string | SecretValue> {
    return probeBackend(this.#call, this.#backend.name, this.#timeoutMs, this.redactor, ref, signal);
  }

  async close(): Promise<void> {
    this.#cache.clear();
    await this.#backend.close?.();
  }

  async #resolveValue(ref: SecretRef, options: ResolveOptions): Promise<SecretValue> {
    const id = options.version === undefined ? refId(ref) : `${refId(ref)}@${options.version}`;
    // Fast path: a live entry is read synchronously, with no timer and no promise per call.
    if (this.#cache.getRemainingTTL(id) > 0) {
      const entry = this.#cache.get(id, { allowStale: true });
      if (entry) return this.#fromEntry(entry, ref, id);
    }
    return this.#loader.fetch(ref, id, options.version, options);
  }

  #fromEntry(entry: Entry, ref: SecretRef, id: string): SecretValue {
    if (entry.value === undefined) {
      this.#negativeHits++;
      publishCache(this.#backend.name, ref, "negative-hit");
      throw new SecretNotFoundError(ref.key, { backend: this.#backend.name });
    }
    return this.#valueHit(ref, id, entry as LiveValue, this.#ttlClock.now(), false).value;
  }

  #failed(raw: unknown): SecretsError {
    const error = toSecretsError(raw, this.#backend.name);
    this.#errors[error.code] = (this.#errors[error.code] ?? 0) + 1;
    return this.redactor.redactError(error);
  }
}
