/** The cache's decisions on `keyway:cache`: names only, built only while someone listens. */
import type { SecretRef } from "../ref.js";
import { type CacheEvent, channels, publish } from "../telemetry.js";

/** Read on every hit: one module binding instead of a property of `channels`. */
export const cacheChannel = channels.cache;

export function publishCache(backend: string, ref: SecretRef, decision: CacheEvent["decision"]): void {
  publish(cacheChannel, () => ({
    backend,
    tenant: ref.tenant,
    namespace: ref.namespace,
    key: ref.key,
    decision,
  }));
}
