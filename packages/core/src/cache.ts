/**
 * The resolver over one backend: `lru-cache`'s `fetch` gives single-flight; on top of it this
 * adds jittered TTL, refresh-ahead for hot keys, a negative cache, bounded stale-if-error,
 * deadlines, retries and stats.
 */
import { LRUCache } from "lru-cache";
import type { PrepareOptions, SecretBackend } from "./backend.js";
import { Batcher } from "./batcher.js";
import { type BreakerOptions, CircuitBreaker } from "./breaker.js";
import { DEADLINE_AT, type DeadlineOptions, loadSignal, untilAborted, withDeadline } from "./deadline.js";
import { coarseClock, Entry, FallbackEntry, type HitMemo, hotBound, type LiveValue } from "./entry.js";
import {
  BackendUnavailableError,
  InvalidSecretValueError,
  isSecretsError,
  SecretNotFoundError,
  type SecretsError,
  type SecretsErrorCode,
} from "./errors.js";
import { createRedactor } from "./redact/index.js";
import type { Redactor } from "./redact/types.js";
import { assertSubkey, formatRef, refId, type SecretRef, validateRef } from "./ref.js";
import { type CachedRef, cachedRef, PlanMemo } from "./ref-memo.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "./resolver.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { extractSubkey } from "./subkey.js";
import { type BackendCallEvent, type CacheEvent, channels, publish } from "./telemetry.js";
import { SecretValue } from "./value.js";

/** Cache settings (durations in milliseconds). */
export interface CacheOptions {
  /** Most entries kept (values and not-founds). @default 1000 */
  maxEntries?: number | undefined;
  /** How long a value is fresh. `0` keeps nothing (concurrent callers still share one request). @default 300_000 */
  ttlMs?: number | undefined;
  /** Each entry's TTL is shortened by up to this fraction at random, so a cold fill does not expire all at once. @default 0.35 */
  jitter?: number | undefined;
  /** How long a not-found is remembered; `0` disables the negative cache. @default 10_000 */
  negativeTtlMs?: number | undefined;
  /** How long past its TTL a value may be served while the backend is unavailable; `0` disables. @default 0 */
  staleIfErrorMs?: number | undefined;
  /** While serving stale, how often the backend is tried again. @default 1000 */
  staleRetryMs?: number | undefined;
  /** A hit in the last fraction of an entry's TTL refreshes it in the background. @default 0.1 */
  refreshAhead?: number | undefined;
  /** A clock (e.g. a fake one for tests and simulations); also used by `lru-cache`. @default performance */
  clock?: { now(): number } | undefined;
  /** Random source for jitter in [0, 1). @default Math.random */
  random?: (() => number) | undefined;
}

export interface ResolverOptions {
  backend: SecretBackend;
  cache?: CacheOptions | undefined;
  /** Every resolve settles within this time. @default 5000 */
  timeoutMs?: number | undefined;
  /** Retries of unavailable backend calls within the deadline. */
  retry?: RetryOptions | undefined;
  /** Where resolved values are registered; a fresh one by default. */
  redactor?: Redactor | undefined;
  /** Marks the backend down for a cool-down after repeated unavailable answers. */
  breaker?: BreakerOptions | undefined;
}

/** What the fetchMethod may set for the entry it returns: `lru-cache` passes it on to its `set`. */
type EntryOptions = { ttl?: number; start?: number };

interface FetchContext {
  readonly id: string;
  readonly ref: SecretRef;
  readonly version: string | undefined;
}

/** Read on every hit: one module binding instead of a property of `channels`. */
const cacheChannel = channels.cache;

/** Shared default options: a resolve without options allocates none. */
const NO_OPTIONS: ResolveOptions = Object.freeze({});

const DEFAULTS = {
  maxEntries: 1000,
  ttlMs: 300_000,
  // Jitter 0.35, not 0.2: a fleet that fills its caches together (a deploy, a restart) refreshes
  // each key after a random TTL minus the refresh-ahead window. With 0.2 those intervals spread
  // over only a quarter of the TTL, so the fill's spike came back every TTL, still 2.9× the mean
  // load two TTLs later (bench/cases/fleet.mjs: 50 instances × 1,000 keys, read every TTL/20).
  // 0.35 flattens it to 1.6× by then, for 1.34 backend requests per key per TTL instead of 1.2
  // (the shorter average TTL). Larger jitter flattens faster but costs more requests (0.4: 1.39).
  jitter: 0.35,
  negativeTtlMs: 10_000,
  staleIfErrorMs: 0,
  staleRetryMs: 1000,
  refreshAhead: 0.1,
};

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
  readonly #settings: typeof DEFAULTS;
  /** Durations (telemetry) and the breaker: the injected clock, else `performance`. */
  readonly #clock: { now(): number };
  /**
   * Entry starts, freshness, liveness on a hit, refresh-ahead, stale-if-error: the injected clock
   * (which `lru-cache` then reads too, on every call, so both agree exactly), else
   * {@link coarseClock} (`lru-cache` keeps its own 1 ms memo of `performance`, as it always did; the
   * two agree to within that millisecond).
   */
  readonly #ttlClock: { now(): number };
  /** `ttlMs × refreshAhead`: a hit closer than this to expiry refreshes in the background. */
  readonly #refreshWindow: number;
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #retry: RetryOptions | undefined;
  readonly #cache: LRUCache<string, Entry, FetchContext>;
  readonly #batcher: Batcher | undefined;
  readonly #breaker: CircuitBreaker;
  // Counters as fields of the resolver, not of a stats object: one load and store less per hit.
  #hits = 0;
  #negativeHits = 0;
  #misses = 0;
  #staleServed = 0;
  #refreshes = 0;
  #backendCalls = 0;
  /** `NOT_FOUND` errors of cached not-founds read by {@link peek}, added to `errors` by `stats()`. */
  #cachedNotFound = 0;
  readonly #errors: Partial<Record<SecretsErrorCode, number>> = {};
  readonly #plans = new PlanMemo<CachedRef>((ref) => [cachedRef(ref)]);
  /**
   * How long after registering a value a hit registers it again: half the redactor's `maxAgeMs`,
   * so a value returned stays registered at least that long after. A redactor that does not say
   * when it drops registrations (no `generation`): 0, every hit registers.
   */
  readonly #renewAfter: number;
  /** The redactor's `generation` when last read; a change means it dropped some registrations. */
  #generation: number | undefined;
  /** When (the cache's clock) the redactor was last seen dropping registrations: values registered by then are registered again at their next hit. */
  #forgottenAt = -1;

  constructor(options: ResolverOptions) {
    this.#backend = options.backend;
    this.#settings = { ...DEFAULTS, ...definedOnly(options.cache ?? {}) };
    this.#clock = options.cache?.clock ?? performance;
    this.#ttlClock = options.cache?.clock ?? coarseClock;
    this.#refreshWindow = this.#settings.ttlMs * this.#settings.refreshAhead;
    this.#random = options.cache?.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#retry = options.retry;
    this.redactor = options.redactor ?? createRedactor();
    this.#generation = this.redactor.generation;
    this.#renewAfter =
      typeof this.#generation === "number" ? Math.floor((this.redactor.maxAgeMs ?? Infinity) / 2) : 0;
    this.#cache = new LRUCache<string, Entry, FetchContext>({
      max: this.#settings.maxEntries,
      ttl: Math.max(1, this.#settings.ttlMs),
      perf: this.#clock,
      // lru-cache memoizes "now" for 1 ms of real time; an injected clock must be read every time.
      ttlResolution: options.cache?.clock ? 0 : 1,
      // For the hit path's single `get(id)` (no options object to pass): an entry lru-cache
      // considers stale is neither returned nor moved nor deleted (`fetch` needs it for
      // stale-if-error), as when the hit path skipped it after `getRemainingTTL`. No other call
      // here reads this default: the one other `get` is of an entry known to be live.
      noDeleteOnStaleGet: true,
      // An entry that leaves (evicted, deleted, replaced, expired) is never a memoized hit again.
      dispose: (entry) => {
        entry.hotUntil = 0;
      },
      fetchMethod: (_id, stale, { signal, options: entryOptions, context }) =>
        this.#load(context, stale, signal, entryOptions),
    });
    this.#breaker = new CircuitBreaker(this.#backend.name, options.breaker, this.#clock);
    const getMany = this.#backend.getMany?.bind(this.#backend);
    if (getMany)
      this.#batcher = new Batcher((refs, signal) =>
        this.#call("getMany", refs, async () => {
          const results = await getMany(refs, { signal });
          // A batch that got no answer at all is an outage, for the breaker and telemetry alike
          // (getMany reports per-ref failures as values, so nothing would reach the breaker).
          const answers = [...results.values()];
          if (answers.length > 0 && answers.every((r) => r instanceof BackendUnavailableError))
            throw answers[0];
          return results;
        }),
      );
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
      return this.#fetchValue(ref, id, undefined, options, true);
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
    if (this.redactor.generation !== this.#generation) this.#redactorForgot(now);
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
    if (entry.registeredAt <= this.#forgottenAt) this.#register(ref, entry as LiveValue, now);
    this.#hits++;
    if (cacheChannel.hasSubscribers) this.#publishCache(ref, "hit");
    return entry as LiveValue;
  }

  #negativeHit(ref: SecretRef): null {
    this.#negativeHits++;
    if (cacheChannel.hasSubscribers) this.#publishCache(ref, "negative-hit");
    this.#cachedNotFound++;
    return null;
  }

  /**
   * {@link peek} for an entry past its hot bound: not live any more, a not-found, a stale value, or
   * due for a refresh. Apart so that `peek` stays small enough for V8 to inline it, and the cache
   * lookup into it, where it is called.
   */
  #peekNotHot(ref: SecretRef, id: string, entry: Entry, now: number): LiveValue | null | undefined {
    const value = entry.value;
    // lru-cache keeps an entry up to and including its expiry instant; getRemainingTTL(id) > 0,
    // the test this replaces, stops just before it.
    if (!(entry.expiresAt - now > 0)) return undefined;
    if (value === undefined) return this.#negativeHit(ref);
    if (this.#due(entry, now)) {
      this.#register(ref, entry as LiveValue, now);
      // Hot again until its next renewal (a stale value never is: see `hotBound`). The entry was
      // just read from the cache, so it is live: this never revives an evicted entry's memo.
      if (!value.stale) entry.hotUntil = this.#hotUntil(entry as LiveValue, entry.registeredAt);
    }
    this.#hits++;
    if (value.stale) this.#staleServed++;
    else if (this.#refreshWindow > 0 && entry.freshUntil - now <= this.#refreshWindow)
      this.#refreshAhead(ref, id);
    if (cacheChannel.hasSubscribers) this.#publishCache(ref, value.stale ? "stale" : "hit");
    return entry as LiveValue;
  }

  async #resolveAsync(input: SecretRef, options: ResolveOptions): Promise<SecretValue> {
    try {
      const ref = validateRef(input);
      assertSubkey(options.subkey); // part of the reference: checked before the cache is read
      const value = await this.#resolveValue(ref, options);
      if (options.subkey === undefined) return value;
      let text: string;
      try {
        text = value.reveal();
      } catch {
        // Bytes that are not UTF-8 (reveal() throws a TypeError) have no sub-keys.
        throw new InvalidSecretValueError(
          `Failed to read secret sub-key '${options.subkey}' from secret '${ref.key}': the secret is binary, not UTF-8 text.`,
        );
      }
      const leaf = extractSubkey(text, ref.key, options.subkey);
      this.redactor.register(leaf, { key: `${ref.key}.${options.subkey}` });
      return SecretValue.fromText(leaf, value.metadata);
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
    const id = refId(validateRef(ref));
    // A backend whose keys ignore case (env: `db` reads SECRET_DB) caches one secret under each
    // spelling read: all of them go, or a rotation seen through one spelling leaves the old value
    // under the others (namespaces differing only in case go too: at worst one more read). Valid
    // ids hold no `@` but the version's.
    const ignoreCase = !this.#backend.capabilities.caseSensitiveKeys;
    const target = ignoreCase ? id.toUpperCase() : id;
    for (const key of [...this.#cache.keys()]) {
      const at = key.indexOf("@");
      const base = at === -1 ? key : key.slice(0, at);
      if ((ignoreCase ? base.toUpperCase() : base) === target) this.#cache.delete(key);
    }
  }

  stats(): ResolverStats {
    return {
      hits: this.#hits,
      negativeHits: this.#negativeHits,
      misses: this.#misses,
      staleServed: this.#staleServed,
      refreshes: this.#refreshes,
      backendCalls: this.#backendCalls,
      errors: this.#errorCounts(),
      size: this.#cache.size,
    };
  }

  #errorCounts(): Partial<Record<SecretsErrorCode, number>> {
    const errors = { ...this.#errors };
    if (this.#cachedNotFound > 0) errors.NOT_FOUND = (errors.NOT_FOUND ?? 0) + this.#cachedNotFound;
    return errors;
  }

  async prepare(options: PrepareOptions = {}): Promise<void> {
    const backend = this.#backend.name;
    try {
      // Not bounded by timeoutMs: loading an SDK on a busy machine may take longer than a read may.
      const ready = this.#backend.prepare?.(options);
      if (ready) await untilAborted(ready, options.signal, `Preparing backend '${backend}'`, backend);
    } catch (raw) {
      const error = isSecretsError(raw)
        ? raw
        : new BackendUnavailableError(`Backend '${backend}' could not be made ready.`, {
            backend,
            cause: raw,
          });
      throw this.redactor.redactError(error);
    }
  }

  /**
   * One version probe of `ref` for `router.watch` (see watch.ts): the backend's `probeVersion`,
   * else a `get` (the value is registered with the redactor, as every value read is), never through
   * the cache. Through the breaker and within `timeoutMs`, as reads are; not retried: the next
   * poll is the retry. `ref` must be validated.
   * @internal
   */
  async probe(ref: SecretRef, signal: AbortSignal): Promise<string | SecretValue> {
    const backend = this.#backend;
    const { signal: bounded, done } = loadSignal(Math.max(1, Math.floor(this.#timeoutMs * 0.9)), signal);
    try {
      const probeVersion = backend.probeVersion?.bind(backend);
      const request: Promise<string | SecretValue> = probeVersion
        ? this.#call("probeVersion", [ref], async () => {
            const version: unknown = await probeVersion(ref, { signal: bounded });
            if (typeof version === "string" && version !== "") return version;
            throw new BackendUnavailableError(`Backend '${backend.name}' answered no version.`, {
              backend: backend.name,
            });
          })
        : this.#call("get", [ref], () => backend.get(ref, { signal: bounded }));
      const what = `the version of secret '${ref.key}'`;
      const answer = await withDeadline(request, this.#timeoutMs, what, signal, backend.name);
      if (typeof answer !== "string") this.redactor.register(answer, { key: ref.key });
      return answer;
    } catch (raw) {
      throw this.redactor.redactError(toSecretsError(raw, backend.name, bounded, ref));
    } finally {
      done();
    }
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
    return this.#fetchValue(ref, id, options.version, options, false);
  }

  /**
   * A miss: the value through `lru-cache`'s single-flight fetch, within the deadline. With
   * `countErrors` (a resolve that needs no other step) a failure is counted and redacted here, so
   * that resolve is one async function rather than two.
   */
  async #fetchValue(
    ref: SecretRef,
    id: string,
    version: string | undefined,
    options: DeadlineOptions,
    countErrors: boolean,
  ): Promise<SecretValue> {
    try {
      this.#misses++;
      if (cacheChannel.hasSubscribers) this.#publishCache(ref, "miss");
      const pending = this.#cache.fetch(id, { context: { id, ref, version } });
      const entry = await withDeadline(
        pending,
        this.#timeoutMs,
        `secret '${ref.key}'`,
        options.signal,
        this.#backend.name,
        options[DEADLINE_AT],
      );
      if (!entry)
        throw new BackendUnavailableError(`No answer for secret '${ref.key}'.`, {
          backend: this.#backend.name,
        });
      if (entry.value === undefined) throw new SecretNotFoundError(ref.key, { backend: this.#backend.name });
      // Usually just loaded (and registered); a load shared with a caller may be older than that.
      const now = this.#ttlClock.now();
      if (this.#due(entry, now)) this.#register(ref, entry as LiveValue, now);
      if (entry.value.stale) this.#staleServed++;
      return entry.value;
    } catch (error) {
      throw countErrors ? this.#failed(error) : error;
    }
  }

  #fromEntry(entry: Entry, ref: SecretRef, id: string): SecretValue {
    if (entry.value === undefined) {
      this.#negativeHits++;
      this.#publishCache(ref, "negative-hit");
      throw new SecretNotFoundError(ref.key, { backend: this.#backend.name });
    }
    this.#hits++;
    const value = entry.value;
    const now = this.#ttlClock.now();
    if (this.#due(entry, now)) this.#register(ref, entry as LiveValue, now);
    if (value.stale) this.#staleServed++;
    else if (this.#refreshWindow > 0 && entry.freshUntil - now <= this.#refreshWindow)
      this.#refreshAhead(ref, id);
    // Checked here, not only in publish(), so a hit allocates no event closure.
    if (cacheChannel.hasSubscribers) this.#publishCache(ref, value.stale ? "stale" : "hit");
    return value;
  }

  /**
   * Whether a live value entry must be registered again before it is returned: the redactor may
   * have dropped it (its `generation` moved since the value was registered), or half its
   * `maxAgeMs` has passed. Trust issue #18 point 3: a cached value is returned on every hit, and
   * the redactor forgets registrations nobody renews, so the hit renews them, here, cheaply.
   */
  #due(entry: Entry, now: number): boolean {
    if (this.redactor.generation !== this.#generation) this.#redactorForgot(now);
    return entry.registeredAt <= this.#forgottenAt || now - entry.registeredAt >= this.#renewAfter;
  }

  /** The redactor dropped registrations, which ones is not known: every value is due at its next hit. */
  #redactorForgot(now: number): void {
    this.#generation = this.redactor.generation;
    this.#forgottenAt = now;
  }

  #register(ref: SecretRef, entry: LiveValue, now: number): void {
    this.#registerValue(ref, entry.value, now);
    entry.registeredAt = this.#registrationTime(now);
  }

  /**
   * Registers a value about to be returned. What this registration drops (the oldest values, past
   * `maxValues`) is seen at once, so only the values registered before it are due again, not this one.
   */
  #registerValue(ref: SecretRef, value: SecretValue, now: number): void {
    this.redactor.register(value, { key: ref.key });
    if (this.redactor.generation !== this.#generation) this.#redactorForgot(now);
  }

  /** A registration time after the last drop seen, so a value registered again is not due again at once. */
  #registrationTime(now: number): number {
    return Math.max(now, this.#forgottenAt + 1);
  }

  /** The hot bound of a fresh value entry registered at `registeredAt` (see `Entry.hotUntil`). */
  #hotUntil(entry: LiveValue, registeredAt: number): number {
    const bound = hotBound(entry.value, 0, entry.expiresAt, entry.freshUntil, this.#refreshWindow);
    return Math.min(bound, registeredAt + this.#renewAfter);
  }

  #publishCache(ref: SecretRef, decision: CacheEvent["decision"]): void {
    publish(channels.cache, () => ({
      backend: this.#backend.name,
      tenant: ref.tenant,
      namespace: ref.namespace,
      key: ref.key,
      decision,
    }));
  }

  /**
   * A hit within the refresh window of its expiry (checked by the caller) starts one background
   * refresh; callers keep getting the current value.
   */
  #refreshAhead(ref: SecretRef, id: string): void {
    if (this.#refreshing.has(id)) return;
    this.#refreshing.add(id);
    this.#refreshes++;
    this.#publishCache(ref, "refresh");
    // With allowStale the promise settles at once with the current value; #load clears the mark.
    // A failed refresh is seen by the next caller after expiry, not here.
    this.#cache
      .fetch(id, { forceRefresh: true, allowStale: true, context: { id, ref, version: undefined } })
      .catch(() => {});
  }

  readonly #refreshing = new Set<string>();

  /** lru-cache's fetchMethod: one backend read (with retries), mapped to a cache entry. */
  async #load(
    context: FetchContext,
    stale: Entry | undefined,
    fetchSignal: AbortSignal,
    entryOptions: EntryOptions,
  ): Promise<Entry> {
    const { ref, version } = context;
    const { signal, done } = loadSignal(Math.max(1, Math.floor(this.#timeoutMs * 0.9)), fetchSignal);
    try {
      const value = await withRetry(
        () => this.#read(ref, version, signal),
        this.#retry,
        signal,
        this.#random,
      );
      this.#registerValue(ref, value, this.#ttlClock.now());
      const expiresAt = this.#stamp(entryOptions, this.#jitteredTtl());
      const start = entryOptions.start as number;
      const registeredAt = this.#registrationTime(start);
      const hot = Math.min(
        hotBound(value, start, expiresAt, expiresAt, this.#refreshWindow),
        registeredAt + this.#renewAfter,
      );
      return new Entry(value, expiresAt, hot, registeredAt);
    } catch (raw) {
      const error = toSecretsError(raw, this.#backend.name, signal, ref);
      if (error instanceof SecretNotFoundError && this.#settings.negativeTtlMs > 0) {
        const expiresAt = this.#stamp(entryOptions, this.#settings.negativeTtlMs);
        return new Entry(undefined, expiresAt, Math.floor(expiresAt), 0);
      }
      const fallback = this.#staleFallback(error, stale);
      if (fallback) {
        const { value, freshUntil } = fallback;
        // The kept value is returned again: registered again, as every value returned is.
        this.#registerValue(ref, value, this.#ttlClock.now());
        const expiresAt = this.#stamp(entryOptions, fallback.ttl);
        const start = entryOptions.start as number;
        const registeredAt = this.#registrationTime(start);
        const hot = Math.min(
          hotBound(value, start, expiresAt, freshUntil, this.#refreshWindow),
          registeredAt + this.#renewAfter,
        );
        return new FallbackEntry(value, expiresAt, hot, registeredAt, freshUntil);
      }
      throw error;
    } finally {
      done();
      this.#refreshing.delete(context.id);
    }
  }

  /**
   * Sets the TTL and the start `lru-cache` gives the entry being loaded (it passes the fetch's
   * options on to its `set`), and returns when `lru-cache` will expire it. Giving the start, rather
   * than letting `lru-cache` read its clock when the promise settles, is what lets the hit path
   * test liveness from the entry alone.
   */
  #stamp(entryOptions: EntryOptions, ttl: number): number {
    const start = this.#ttlClock.now();
    entryOptions.ttl = ttl;
    entryOptions.start = start;
    // lru-cache keeps no TTL for a start of 0 (e.g. a fake clock at 0): such an entry never expires.
    return start === 0 ? Number.POSITIVE_INFINITY : start + ttl;
  }

  async #read(ref: SecretRef, version: string | undefined, signal: AbortSignal): Promise<SecretValue> {
    if (this.#batcher && version === undefined) return this.#batcher.load(ref, signal);
    return this.#call("get", [ref], () => this.#backend.get(ref, { signal, version }));
  }

  /** One backend request: through the breaker, counted, and published with its outcome. */
  async #call<T>(
    operation: BackendCallEvent["operation"],
    refs: readonly SecretRef[],
    request: () => Promise<T>,
  ): Promise<T> {
    // The clock is read only for the event's duration, so only while someone listens.
    const started = channels.backend.hasSubscribers ? this.#clock.now() : Number.NaN;
    const done = (outcome: "ok" | SecretsErrorCode) =>
      publish(channels.backend, () => ({
        backend: this.#backend.name,
        operation,
        refs: refs.map(({ tenant, namespace, key }) => ({ tenant, namespace, key })),
        outcome,
        durationMs: Number.isNaN(started) ? 0 : this.#clock.now() - started,
      }));
    try {
      const result = await this.#breaker.run(() => {
        this.#backendCalls++;
        return request();
      });
      done("ok");
      return result;
    } catch (error) {
      done(isSecretsError(error) ? error.code : "UNAVAILABLE");
      throw error;
    }
  }

  /** Stale-if-error: only for unavailable, only within the bound after the value's TTL. */
  #staleFallback(
    error: SecretsError,
    stale: Entry | undefined,
  ): { value: SecretValue; freshUntil: number; ttl: number } | undefined {
    if (!(error instanceof BackendUnavailableError) || stale?.value === undefined) return undefined;
    const now = this.#ttlClock.now();
    const servableUntil = stale.freshUntil + this.#settings.staleIfErrorMs;
    if (now >= servableUntil) return undefined;
    // Still fresh: kept exactly until its TTL ends (then the next read asks again, and gets it
    // marked stale); already expired: kept `staleRetryMs` at most, and never past the bound.
    const ttl = Math.max(
      1,
      now < stale.freshUntil
        ? stale.freshUntil - now
        : Math.min(this.#settings.staleRetryMs, servableUntil - now),
    );
    const value = now >= stale.freshUntil ? stale.value.asStale() : stale.value;
    return { value, freshUntil: stale.freshUntil, ttl };
  }

  #jitteredTtl(): number {
    const { ttlMs, jitter } = this.#settings;
    return Math.max(1, Math.round(ttlMs * (1 - jitter * this.#random())));
  }

  #failed(raw: unknown): SecretsError {
    const error = toSecretsError(raw, this.#backend.name);
    this.#errors[error.code] = (this.#errors[error.code] ?? 0) + 1;
    return this.redactor.redactError(error);
  }
}

/** Anything a backend throws becomes a Keyway error; an abort by our deadline is a timeout. */
function toSecretsError(raw: unknown, backend: string, signal?: AbortSignal, ref?: SecretRef): SecretsError {
  if (isSecretsError(raw)) return raw;
  const what = ref ? `secret '${ref.key}' (${formatRef(ref)})` : "a secret";
  if (signal?.aborted)
    return new BackendUnavailableError(`Timed out reading ${what}.`, { backend, cause: raw });
  return new BackendUnavailableError(`Backend '${backend}' failed reading ${what}.`, { backend, cause: raw });
}

function definedOnly<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
