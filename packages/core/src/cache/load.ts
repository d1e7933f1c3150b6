/**
 * The load path: a miss, through `lru-cache`'s `fetch` (single-flight: concurrent misses of one
 * id share one load), and what a load makes of the backend's answer: a value entry with a
 * jittered TTL, a negative entry for a not-found, or, for an outage, the previous value kept a
 * bounded time (stale-if-error). Hits near expiry start one background refresh (refresh-ahead).
 * The backend itself is reached through the call pipeline (`call/pipeline.ts`).
 */
import { LRUCache } from "lru-cache";
import { BackendUnavailableError, SecretNotFoundError, type SecretsError } from "../errors.js";
import type { SecretRef } from "../ref.js";
import type { SecretValue } from "../value.js";
import { DEADLINE_AT, type DeadlineOptions, withDeadline } from "./call/deadline.js";
import type { BackendCall } from "./call/pipeline.js";
import { Entry, FallbackEntry, type LiveValue } from "./entry.js";
import { cacheChannel, publishCache } from "./events.js";
import type { CacheSettings } from "./options.js";
import type { Registrations } from "./registrations.js";

/** What the fetchMethod may set for the entry it returns: `lru-cache` passes it on to its `set`. */
type EntryOptions = { ttl?: number; start?: number };

interface FetchContext {
  readonly id: string;
  readonly ref: SecretRef;
  readonly version: string | undefined;
}

export interface LoaderOptions {
  readonly backend: string;
  readonly settings: CacheSettings;
  /** `lru-cache`'s clock (the injected one, else `performance`). */
  readonly clock: { now(): number };
  /** Whether `clock` was injected (then `lru-cache` must read it every time). */
  readonly injectedClock: boolean;
  /** Entry times (see `#ttlClock` in resolver.ts). */
  readonly ttlClock: { now(): number };
  readonly random: () => number;
  readonly timeoutMs: number;
  readonly call: BackendCall;
  readonly registrations: Registrations;
}

/** The cache's entries and how they are filled. */
export class Loader {
  readonly cache: LRUCache<string, Entry, FetchContext>;
  /** `ttlMs × refreshAhead`: a hit closer than this to expiry refreshes in the background. */
  readonly refreshWindow: number;
  misses = 0;
  refreshes = 0;
  /** Stale values returned by a miss (hits count their own). */
  staleServed = 0;
  readonly #options: LoaderOptions;
  readonly #refreshing = new Set<string>();

  constructor(options: LoaderOptions) {
    this.#options = options;
    const { settings } = options;
    this.refreshWindow = settings.ttlMs * settings.refreshAhead;
    this.cache = new LRUCache<string, Entry, FetchContext>({
      max: settings.maxEntries,
      ttl: Math.max(1, settings.ttlMs),
      perf: options.clock,
      // lru-cache memoizes "now" for 1 ms of real time; an injected clock must be read every time.
      ttlResolution: options.injectedClock ? 0 : 1,
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
  }

  /**
   * A miss: the value through `lru-cache`'s single-flight fetch, within the deadline. `failed`
   * (for a resolve that needs no other step) maps a failure here, so that resolve is one async
   * function rather than two.
   */
  async fetch(
    ref: SecretRef,
    id: string,
    version: string | undefined,
    options: DeadlineOptions,
    failed?: (error: unknown) => SecretsError,
  ): Promise<SecretValue> {
    const { backend, timeoutMs, ttlClock, registrations } = this.#options;
    try {
      this.misses++;
      if (cacheChannel.hasSubscribers) publishCache(backend, ref, "miss");
      const pending = this.cache.fetch(id, { context: { id, ref, version } });
      const what = `secret '${ref.key}'`;
      const entry = await withDeadline(
        pending,
        timeoutMs,
        what,
        options.signal,
        backend,
        options[DEADLINE_AT],
      );
      if (!entry) throw new BackendUnavailableError(`No answer for secret '${ref.key}'.`, { backend });
      if (entry.value === undefined) throw new SecretNotFoundError(ref.key, { backend });
      // Usually just loaded (and registered); a load shared with a caller may be older than that.
      const now = ttlClock.now();
      if (registrations.due(entry, now)) registrations.register(ref, entry as LiveValue, now);
      if (entry.value.stale) this.staleServed++;
      return entry.value;
    } catch (error) {
      throw failed ? failed(error) : error;
    }
  }

  /**
   * A hit within the refresh window of its expiry (checked by the caller) starts one background
   * refresh; callers keep getting the current value.
   */
  refreshAhead(ref: SecretRef, id: string): void {
    if (this.#refreshing.has(id)) return;
    this.#refreshing.add(id);
    this.refreshes++;
    publishCache(this.#options.backend, ref, "refresh");
    // With allowStale the promise settles at once with the current value; #load clears the mark.
    // A failed refresh is seen by the next caller after expiry, not here.
    this.cache
      .fetch(id, { forceRefresh: true, allowStale: true, context: { id, ref, version: undefined } })
      .catch(() => {});
  }

  /** lru-cache's fetchMethod: one backend read (through the call pipeline), mapped to a cache entry. */
  async #load(
    context: FetchContext,
    stale: Entry | undefined,
    fetchSignal: AbortSignal,
    entryOptions: EntryOptions,
  ): Promise<Entry> {
    const { call, registrations, ttlClock, settings } = this.#options;
    const { ref, version } = context;
    try {
      const value = await call.read(ref, version, fetchSignal);
      return this.#entry(ref, value, entryOptions, this.#jitteredTtl(), undefined);
    } catch (error) {
      if (error instanceof SecretNotFoundError && settings.negativeTtlMs > 0) {
        const expiresAt = this.#stamp(entryOptions, settings.negativeTtlMs);
        return new Entry(undefined, expiresAt, Math.floor(expiresAt), 0);
      }
      const fallback = this.#staleFallback(error as SecretsError, stale);
      if (!fallback) throw error;
      // The kept value is returned again: registered again, as every value returned is.
      registrations.registerValue(ref, fallback.value, ttlClock.now());
      return this.#entry(ref, fallback.value, entryOptions, fallback.ttl, fallback.freshUntil);
    } finally {
      this.#refreshing.delete(context.id);
    }
  }

  /**
   * The entry of a value just read (`freshUntil` undefined: registered here) or kept through an
   * outage (`freshUntil`: when it stopped being fresh; registered by the caller).
   */
  #entry(
    ref: SecretRef,
    value: SecretValue,
    entryOptions: EntryOptions,
    ttl: number,
    freshUntil: number | undefined,
  ): Entry {
    const registrations = this.#options.registrations;
    if (freshUntil === undefined) registrations.registerValue(ref, value, this.#options.ttlClock.now());
    const expiresAt = this.#stamp(entryOptions, ttl);
    const start = entryOptions.start as number;
    const registeredAt = registrations.time(start);
    const fresh = freshUntil ?? expiresAt;
    const hot = registrations.hotUntil(value, start, expiresAt, fresh, this.refreshWindow, registeredAt);
    return freshUntil === undefined
      ? new Entry(value, expiresAt, hot, registeredAt)
      : new FallbackEntry(value, expiresAt, hot, registeredAt, freshUntil);
  }

  /**
   * Sets the TTL and the start `lru-cache` gives the entry being loaded (it passes the fetch's
   * options on to its `set`), and returns when `lru-cache` will expire it. Giving the start, rather
   * than letting `lru-cache` read its clock when the promise settles, is what lets the hit path
   * test liveness from the entry alone.
   */
  #stamp(entryOptions: EntryOptions, ttl: number): number {
    const start = this.#options.ttlClock.now();
    entryOptions.ttl = ttl;
    entryOptions.start = start;
    // lru-cache keeps no TTL for a start of 0 (e.g. a fake clock at 0): such an entry never expires.
    return start === 0 ? Number.POSITIVE_INFINITY : start + ttl;
  }

  /** Stale-if-error: only for unavailable, only within the bound after the value's TTL. */
  #staleFallback(
    error: SecretsError,
    stale: Entry | undefined,
  ): { value: SecretValue; freshUntil: number; ttl: number } | undefined {
    if (!(error instanceof BackendUnavailableError) || stale?.value === undefined) return undefined;
    const { settings, ttlClock } = this.#options;
    const now = ttlClock.now();
    const servableUntil = stale.freshUntil + settings.staleIfErrorMs;
    if (now >= servableUntil) return undefined;
    // Still fresh: kept exactly until its TTL ends (then the next read asks again, and gets it
    // marked stale); already expired: kept `staleRetryMs` at most, and never past the bound.
    const ttl = Math.max(
      1,
      now < stale.freshUntil ? stale.freshUntil - now : Math.min(settings.staleRetryMs, servableUntil - now),
    );
    const value = now >= stale.freshUntil ? stale.value.asStale() : stale.value;
    return { value, freshUntil: stale.freshUntil, ttl };
  }

  #jitteredTtl(): number {
    const { settings, random } = this.#options;
    return Math.max(1, Math.round(settings.ttlMs * (1 - settings.jitter * random())));
  }
}
