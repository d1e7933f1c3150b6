/**
 * What Keyway does, published on `node:diagnostics_channel` (as unstorage does): every resolve,
 * backend call, cache decision, breaker change and watched version change, with tenant, namespace, key, backend,
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
  /** `probeVersion`: a watch's version probe (`router.watch`). */
  readonly operation: "get" | "getMany" | "probeVersion";
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

/**
 * A watched secret's version changed (`router.watch`): one event per change of a watched ref,
 * whatever the number of its watchers. Names and opaque versions only, never a value.
 */
export interface ChangeEvent {
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
  /** The version now; `undefined`: not found any more. */
  readonly version: string | undefined;
  /** The version before; `undefined`: not found before. */
  readonly previousVersion: string | undefined;
  /** The namespace the value comes from now (inheritance), if found. */
  readonly foundIn: string | undefined;
  readonly previousFoundIn: string | undefined;
  /** The backend that serves it now, if found. */
  readonly backend: string | undefined;
  readonly previousBackend: string | undefined;
}

/** Channel names, for `diagnostics_channel.subscribe(name, …)`. */
export const CHANNELS = {
  resolve: "keyway:resolve",
  backend: "keyway:backend",
  cache: "keyway:cache",
  breaker: "keyway:breaker",
  change: "keyway:change",
} as const;

export const channels = {
  resolve: diagnostics.channel(CHANNELS.resolve),
  backend: diagnostics.channel(CHANNELS.backend),
  cache: diagnostics.channel(CHANNELS.cache),
  breaker: diagnostics.channel(CHANNELS.breaker),
  change: diagnostics.channel(CHANNELS.change),
};

/** Publishes the event `make` builds, building it only when someone listens. */
export function publish<T extends object>(channel: diagnostics.Channel, make: () => T): void {
  if (channel.hasSubscribers) channel.publish(make());
}
