/** A per-client token bucket: each client address gets `perSecond` requests, bursting to `burst`. */
import { HttpError } from "./errors.js";

/** How many requests a client may make. */
export interface RateLimitOptions {
  /** Sustained requests per second per client address; 0 turns the limit off. @default 1000 */
  perSecond?: number | undefined;
  /** Requests a client may make at once after being idle. @default 2 × perSecond */
  burst?: number | undefined;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Takes one token for `client`, or throws a 429 with Retry-After. */
export type RateLimiter = (client: string) => void;

/** Builds the limiter; buckets of idle clients are dropped so the map stays small. */
export function createRateLimiter(
  options: RateLimitOptions = {},
  now = () => performance.now(),
): RateLimiter {
  const perSecond = options.perSecond ?? 1000;
  if (perSecond === 0) return () => {};
  const burst = options.burst ?? perSecond * 2;
  const buckets = new Map<string, Bucket>();
  return (client) => {
    const t = now();
    let bucket = buckets.get(client);
    if (bucket === undefined) {
      if (buckets.size >= 10_000) sweep(buckets, t, burst, perSecond);
      bucket = { tokens: burst, at: t };
      buckets.set(client, bucket);
    } else {
      bucket.tokens = Math.min(burst, bucket.tokens + ((t - bucket.at) / 1000) * perSecond);
      bucket.at = t;
    }
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
      throw new HttpError(429, "RATE_LIMITED", "Too many requests from this client; slow down.", {
        "Retry-After": String(wait),
      });
    }
    bucket.tokens -= 1;
  };
}

/** Drops the buckets that have refilled (their clients are idle): a full bucket is the default. */
function sweep(buckets: Map<string, Bucket>, t: number, burst: number, perSecond: number): void {
  for (const [client, bucket] of buckets)
    if (bucket.tokens + ((t - bucket.at) / 1000) * perSecond >= burst) buckets.delete(client);
}
