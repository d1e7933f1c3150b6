/**
 * What Keyway does, published on `node:diagnostics_channel` (as unstorage does): every resolve,
 * backend call, cache decision and breaker change, with tenant, namespace, key, backend,
 * outcome and duration; never a value. Publishing costs nothing while nobody subscribes.
 */
import diagnostics from "node:diagnostics_channel";
import type { SecretsErrorCode } from "./errors.js";

/** `ok`, or the error code of the failure. */
export type Outcome = "ok" | SecretsErrorCode;

export interface ResolveEvent {
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
  /** The backend that answered (or failed), when one did. */
  readonly backend: string | undefined;
  /** The namespace the value came from (inheritance), when found. */
  readonly foundIn: string | undefined;
  readonly outcome: Outcome;
  readonly stale: boolean;
  readonly durationMs: number;
  readonly executionId: string | undefined;
}

export interface BackendCallEvent {
  readonly backend: string;
  readonly operation: "get" | "getMany";
  /** The refs asked for (one for `get`). Keys and namespaces only. */
  readonly refs: ReadonlyArray<{ tenant?: string | undefined; namespace: string; key: string }>;
  readonly outcome: Outcome;
  readonly durationMs: number;
}

export interface CacheEvent {
  readonly backend: string;
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
  readonly decision: "hit" | "negative-hit" | "miss" | "stale" | "refresh";
}

export interface BreakerEvent {
  readonly backend: string;
  readonly state: "open" | "half-open" | "closed";
  readonly failures: number;
}

/** Channel names, for `diagnostics_channel.subscribe(name, …)`. */
export const CHANNELS = {
  resolve: "keyway:resolve",
  backend: "keyway:backend",
  cache: "keyway:cache",
  breaker: "keyway:breaker",
} as const;

export const channels = {
  resolve: diagnostics.channel(CHANNELS.resolve),
  backend: diagnostics.channel(CHANNELS.backend),
  cache: diagnostics.channel(CHANNELS.cache),
  breaker: diagnostics.channel(CHANNELS.breaker),
};

/** Publishes the event `make` builds, building it only when someone listens. */
export function publish<T extends object>(channel: diagnostics.Channel, make: () => T): void {
  if (channel.hasSubscribers) channel.publish(make());
}
