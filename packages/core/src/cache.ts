/**
 * The resolver over one backend: `lru-cache`'s `fetch` gives single-flight; on top of it this
 * adds jittered TTL, refresh-ahead for hot keys, a negative cache, bounded stale-if-error,
 * deadlines, retries and stats.
 */
import { LRUCache } from "lru-cache";
import type { GetManyResult, SecretBackend } from "./backend.js";
import { type BreakerOptions, CircuitBreaker } from "./breaker.js";
import { deadlineSignal, withDeadline } from "./deadline.js";
import {
  BackendUnavailableError,
  isSecretsError,
  SecretNotFoundError,
  type SecretsError,
  type SecretsErrorCode,
} from "./errors.js";
import { createRedactor } from "./redact/index.js";
import type { Redactor } from "./redact/types.js";
import { formatRef, refId, type SecretRef, validateRef } from "./ref.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "./resolver.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { extractSubkey } from "./subkey.js";
import { type CacheEvent, channels, publish } from "./telemetry.js";
import { SecretValue } from "./value.js";

/** Cache settings (durations in milliseconds). */
export interface CacheOptions {
  /** Most entries kept (values and not-founds). @default 1000 */
  maxEntries?: number | undefined;
  /** How long a value is fresh. `0` keeps nothing (concurrent callers still share one request). @default 300_000 */
  ttlMs?: number | undefined;
  /** Each entry's TTL is shortened by up to this fraction at random, so a cold fill does not expire all at once. @default 0.2 */
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

type Entry =
  | { readonly kind: "value"; readonly value: SecretValue; readonly freshUntil: number }
  | { readonly kind: "missing" };

interface FetchContext {
  readonly id: string;
  readonly ref: SecretRef;
  readonly version: string | undefined;
}

const DEFAULTS = {
  maxEntries: 1000,
  ttlMs: 300_000,
  jitter: 0.2,
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
  readonly #clock: { now(): number };
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #retry: RetryOptions | undefined;
  readonly #cache: LRUCache<string, Entry, FetchContext>;
  readonly #batcher: Batcher | undefined;
  readonly #breaker: CircuitBreaker;
  readonly #stats = { hits: 0, negativeHits: 0, misses: 0, staleServed: 0, refreshes: 0, backendCalls: 0 };
  readonly #errors: Partial<Record<SecretsErrorCode, number>> = {};

  constructor(options: ResolverOptions) {
    this.#backend = options.backend;
    this.#settings = { ...DEFAULTS, ...definedOnly(options.cache ?? {}) };
    this.#clock = options.cache?.clock ?? performance;
    this.#random = options.cache?.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.#retry = options.retry;
    this.redactor = options.redactor ?? createRedactor();
    this.#cache = new LRUCache<string, Entry, FetchContext>({
      max: this.#settings.maxEntries,
      ttl: Math.max(1, this.#settings.ttlMs),
      perf: this.#clock,
      // lru-cache memoizes "now" for 1 ms of real time; an injected clock must be read every time.
      ttlResolution: options.cache?.clock ? 0 : 1,
      fetchMethod: (_id, stale, { signal, options: entryOptions, context }) =>
        this.#load(context, stale, signal, entryOptions),
    });
    this.#breaker = new CircuitBreaker(this.#backend.name, options.breaker, this.#clock);
    const getMany = this.#backend.getMany?.bind(this.#backend);
    if (getMany)
      this.#batcher = new Batcher((refs, signal) =>
        this.#call("getMany", refs, () => getMany(refs, { signal })),
      );
  }

  async resolve(input: SecretRef, options: ResolveOptions = {}): Promise<SecretValue> {
    try {
      const ref = validateRef(input);
      const value = await this.#resolveValue(ref, options);
      if (options.subkey === undefined) return value;
      const leaf = extractSubkey(value.reveal(), ref.key, options.subkey);
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
    for (const key of [...this.#cache.keys()])
      if (key === id || key.startsWith(`${id}@`)) this.#cache.delete(key);
  }

  stats(): ResolverStats {
    return { ...this.#stats, errors: { ...this.#errors }, size: this.#cache.size };
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
    this.#stats.misses++;
    this.#publishCache(ref, "miss");
    const pending = this.#cache.fetch(id, { context: { id, ref, version: options.version } });
    const entry = await withDeadline(
      pending,
      this.#timeoutMs,
      `secret '${ref.key}'`,
      options.signal,
      this.#backend.name,
    );
    if (!entry)
      throw new BackendUnavailableError(`No answer for secret '${ref.key}'.`, {
        backend: this.#backend.name,
      });
    if (entry.kind === "missing") throw new SecretNotFoundError(ref.key, { backend: this.#backend.name });
    if (entry.value.stale) this.#stats.staleServed++;
    return entry.value;
  }

  #fromEntry(entry: Entry, ref: SecretRef, id: string): SecretValue {
    if (entry.kind === "missing") {
      this.#stats.negativeHits++;
      this.#publishCache(ref, "negative-hit");
      throw new SecretNotFoundError(ref.key, { backend: this.#backend.name });
    }
    this.#stats.hits++;
    if (entry.value.stale) this.#stats.staleServed++;
    else this.#maybeRefreshAhead(entry, ref, id);
    this.#publishCache(ref, entry.value.stale ? "stale" : "hit");
    return entry.value;
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

  /** A hit near expiry starts one background refresh; callers keep getting the current value. */
  #maybeRefreshAhead(entry: Entry & { kind: "value" }, ref: SecretRef, id: string): void {
    const window = this.#settings.ttlMs * this.#settings.refreshAhead;
    if (window <= 0 || entry.freshUntil - this.#clock.now() > window) return;
    if (this.#refreshing.has(id)) return;
    this.#refreshing.add(id);
    this.#stats.refreshes++;
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
    entryOptions: { ttl?: number },
  ): Promise<Entry> {
    try {
      return await this.#loadEntry(context, stale, fetchSignal, entryOptions);
    } finally {
      this.#refreshing.delete(context.id);
    }
  }

  async #loadEntry(
    context: FetchContext,
    stale: Entry | undefined,
    fetchSignal: AbortSignal,
    entryOptions: { ttl?: number },
  ): Promise<Entry> {
    const { ref, version } = context;
    const signal = deadlineSignal(Math.max(1, Math.floor(this.#timeoutMs * 0.9)), fetchSignal);
    try {
      const value = await withRetry(
        () => this.#read(ref, version, signal),
        this.#retry,
        signal,
        this.#random,
      );
      this.redactor.register(value, { key: ref.key });
      const ttl = this.#jitteredTtl();
      entryOptions.ttl = ttl;
      return { kind: "value", value, freshUntil: this.#clock.now() + ttl };
    } catch (raw) {
      const error = toSecretsError(raw, this.#backend.name, signal, ref);
      if (error instanceof SecretNotFoundError && this.#settings.negativeTtlMs > 0) {
        entryOptions.ttl = this.#settings.negativeTtlMs;
        return { kind: "missing" };
      }
      const fallback = this.#staleFallback(error, stale);
      if (fallback) {
        entryOptions.ttl = fallback.ttl;
        return fallback.entry;
      }
      throw error;
    }
  }

  async #read(ref: SecretRef, version: string | undefined, signal: AbortSignal): Promise<SecretValue> {
    if (this.#batcher && version === undefined) return this.#batcher.load(ref, signal);
    return this.#call("get", [ref], () => this.#backend.get(ref, { signal, version }));
  }

  /** One backend request: through the breaker, counted, and published with its outcome. */
  async #call<T>(
    operation: "get" | "getMany",
    refs: readonly SecretRef[],
    request: () => Promise<T>,
  ): Promise<T> {
    const started = this.#clock.now();
    const done = (outcome: "ok" | SecretsErrorCode) =>
      publish(channels.backend, () => ({
        backend: this.#backend.name,
        operation,
        refs: refs.map(({ tenant, namespace, key }) => ({ tenant, namespace, key })),
        outcome,
        durationMs: this.#clock.now() - started,
      }));
    try {
      const result = await this.#breaker.run(() => {
        this.#stats.backendCalls++;
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
  #staleFallback(error: SecretsError, stale: Entry | undefined): { entry: Entry; ttl: number } | undefined {
    if (!(error instanceof BackendUnavailableError) || stale?.kind !== "value") return undefined;
    const now = this.#clock.now();
    const servableUntil = stale.freshUntil + this.#settings.staleIfErrorMs;
    if (now >= servableUntil) return undefined;
    const ttl = Math.max(
      1,
      Math.min(Math.max(stale.freshUntil - now, this.#settings.staleRetryMs), servableUntil - now),
    );
    const value = now >= stale.freshUntil ? stale.value.asStale() : stale.value;
    return { entry: { kind: "value", value, freshUntil: stale.freshUntil }, ttl };
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

/**
 * Collects the loads started in one tick into a single `getMany`, so a template's secrets (or a
 * burst of callers) cost one batch request. Single-flight per key stays with lru-cache.
 */
class Batcher {
  #queue: Array<{ ref: SecretRef; signal: AbortSignal; settle: (result: SecretValue | Error) => void }> = [];

  constructor(private readonly getMany: (refs: SecretRef[], signal: AbortSignal) => Promise<GetManyResult>) {}

  load(ref: SecretRef, signal: AbortSignal): Promise<SecretValue> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) queueMicrotask(() => void this.#flush());
      this.#queue.push({ ref, signal, settle: (r) => (r instanceof SecretValue ? resolve(r) : reject(r)) });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    const refs = batch.map((item) => item.ref);
    const signal = batch.length === 1 ? batch[0]?.signal : AbortSignal.any(batch.map((item) => item.signal));
    try {
      const results = await this.getMany(refs, signal as AbortSignal);
      for (const item of batch) {
        const result = results.get(item.ref);
        item.settle(
          result ?? new BackendUnavailableError(`The batch read returned nothing for '${item.ref.key}'.`),
        );
      }
    } catch (error) {
      for (const item of batch) item.settle(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
