/** The caching resolver's options and their defaults. */
import type { SecretBackend } from "../backend.js";
import type { Redactor } from "../redact/types.js";
import type { BreakerOptions } from "./call/breaker.js";
import type { RetryOptions } from "./call/retry.js";

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

export const DEFAULTS = {
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

/** The cache settings in force: the defaults, overridden by each option given. */
export type CacheSettings = typeof DEFAULTS;

export function cacheSettings(options: CacheOptions | undefined): CacheSettings {
  const given = Object.entries(options ?? {}).filter(([, v]) => v !== undefined);
  return { ...DEFAULTS, ...(Object.fromEntries(given) as Partial<CacheSettings>) };
}
