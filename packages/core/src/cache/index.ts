/**
 * The caching resolver: `resolver.ts` (the resolver and its hit path), `load.ts` (single-flight,
 * negative cache, stale-if-error, refresh-ahead), `call/pipeline.ts` (the backend call: deadline,
 * retry, batch, telemetry, breaker, in that order), `entry.ts` and `ref-memo.ts` (what is kept).
 * The cache imports nothing of the router or the watches.
 */
export type { CacheOptions, ResolverOptions } from "./options.js";
export { createResolver } from "./resolver.js";
