/**
 * @keyway/core/otel: OpenTelemetry for Keyway, built only on the diagnostics channels of
 * `telemetry.ts`. A separate entry point, so `@keyway/core` never loads `@opentelemetry/api`;
 * the API is an optional peer dependency, loaded here only when `instrumentKeyway` is called.
 *
 * What it records (keys and namespaces at most, never a value):
 * - a span per backend request (`keyway:backend`): `keyway.backend.get` / `keyway.backend.getMany`,
 *   kind CLIENT, child of the caller's active span, timed by the event's `durationMs`;
 * - `keyway.backend.duration` (histogram, ms) by backend, operation and outcome;
 * - `keyway.cache.decisions` (counter) by backend and `keyway.cache.decision`: the hit ratio is
 *   `hit / (hit + miss)`;
 * - `keyway.cache.stale_served` (counter) by backend: resolves answered with a stale value;
 * - `keyway.errors` (counter) by backend and `keyway.error.code`: resolves that failed;
 * - `keyway.breaker.state` (observable gauge) per backend: 0 closed, 1 half-open, 2 open;
 * - `keyway.changes` (counter) by backend: version changes of watched secrets (`keyway:change`).
 *
 * Metric attributes never hold keys or namespaces (unbounded cardinality); spans do.
 */
import diagnostics from "node:diagnostics_channel";
import { createRequire } from "node:module";
import type * as OtelApi from "@opentelemetry/api";
// From the main entry, not its modules, for one copy of each class (see config/index.ts).
import {
  type BackendCallEvent,
  type BreakerEvent,
  type CacheEvent,
  CHANNELS,
  type ChangeEvent,
  ConfigurationError,
  type Outcome,
  type ResolveEvent,
} from "./internal.js";

/**
 * The diagnostics_channel names Keyway publishes on, and the event each carries: subscribe with
 * `diagnostics_channel.subscribe(CHANNELS.resolve, …)` without OpenTelemetry, or let
 * {@link instrumentKeyway} do it.
 */
export type {
  BackendCallEvent,
  BreakerEvent,
  CacheEvent,
  ChangeEvent,
  Outcome,
  ResolveEvent,
} from "./internal.js";
export { CHANNELS } from "./internal.js";

/** The `@opentelemetry/api` module (`import * as api from "@opentelemetry/api"`). */
export type OpenTelemetryApi = typeof OtelApi;

/** Options of {@link instrumentKeyway}. */
export interface KeywayInstrumentationOptions {
  /**
   * The application's `@opentelemetry/api` module. Pass it when the app may hold more than one
   * copy of the API (bundled, or a nested install of another version), so Keyway records into the
   * copy the SDK was registered with. @default `require("@opentelemetry/api")` resolved from `@keyway/core`
   */
  api?: OpenTelemetryApi | undefined;
  /** The tracer's instrumentation scope name. @default "@keyway/core" */
  tracerName?: string | undefined;
  /** The meter's instrumentation scope name. @default "@keyway/core" */
  meterName?: string | undefined;
}

/** A running instrumentation. */
export interface KeywayInstrumentation {
  /** Unsubscribes from every channel and stops observing breaker states. Idempotent. */
  disable(): void;
}

const SCOPE = "@keyway/core";
const BREAKER_LEVEL = { closed: 0, "half-open": 1, open: 2 } as const;

/**
 * Subscribes OpenTelemetry spans and metrics to Keyway's diagnostics channels. Call it once,
 * after the OpenTelemetry SDK is started: the API hands out no-op meters before a meter provider
 * is registered (tracers are proxies and pick up a later provider).
 *
 * Why synchronous `require` and not `await import()`: an instrumentation is set up at start-up,
 * next to the SDK, where a promise would be easy to forget and events published before it settles
 * would be lost. Node resolves `@opentelemetry/api` to its CommonJS build for `import` too, so this
 * is the very module the app imports; and the API keeps its registered providers on a global
 * keyed by major version, so even a second copy would see the same SDK.
 * @throws ConfigurationError when `api` is not given and `@opentelemetry/api` is not installed.
 * @example
 * import * as api from "@opentelemetry/api";
 * import { instrumentKeyway } from "@keyway/core/otel";
 * sdk.start();
 * const instrumentation = instrumentKeyway({ api });
 * // ... on shutdown:
 * instrumentation.disable();
 */
export function instrumentKeyway(options: KeywayInstrumentationOptions = {}): KeywayInstrumentation {
  const api = options.api ?? loadApi();
  const version = packageVersion();
  const tracer = api.trace.getTracer(options.tracerName ?? SCOPE, version);
  const meter = api.metrics.getMeter(options.meterName ?? SCOPE, version);

  const duration = meter.createHistogram("keyway.backend.duration", {
    description: "Duration of backend requests (get or getMany), by outcome.",
    unit: "ms",
  });
  const decisions = meter.createCounter("keyway.cache.decisions", {
    description: "Cache decisions: hit, negative-hit, miss, stale, refresh.",
    unit: "{decision}",
  });
  const staleServed = meter.createCounter("keyway.cache.stale_served", {
    description: "Resolves answered with a stale value while the backend was unavailable.",
    unit: "{resolve}",
  });
  const errors = meter.createCounter("keyway.errors", {
    description: "Resolves that failed, by error code (NOT_FOUND included, as in stats().errors).",
    unit: "{error}",
  });
  const changes = meter.createCounter("keyway.changes", {
    description: "Version changes seen by router.watch, by the backend serving the secret now.",
    unit: "{change}",
  });
  const breakerState = meter.createObservableGauge("keyway.breaker.state", {
    description: "Circuit breaker state per backend: 0 closed, 1 half-open (probing), 2 open.",
  });

  const breakers = new Map<string, BreakerEvent["state"]>();
  const observeBreakers: OtelApi.ObservableCallback = (result) => {
    for (const [backend, state] of breakers)
      result.observe(BREAKER_LEVEL[state], { "keyway.backend": backend });
  };
  breakerState.addCallback(observeBreakers);

  const onBackend = (message: unknown) => {
    const event = message as BackendCallEvent;
    const failed = isFailure(event.outcome);
    const ms = Number.isFinite(event.durationMs) && event.durationMs > 0 ? event.durationMs : 0;
    // The event is published as the request settles: it ended now and started `ms` before.
    const end = performance.timeOrigin + performance.now();
    const span = tracer.startSpan(`keyway.backend.${event.operation}`, {
      kind: api.SpanKind.CLIENT,
      startTime: end - ms,
      attributes: spanAttributes(event),
    });
    if (failed) {
      span.setAttribute("error.type", event.outcome);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: event.outcome });
    }
    span.end(end);
    duration.record(ms, {
      "keyway.backend": event.backend,
      "keyway.operation": event.operation,
      "keyway.outcome": event.outcome,
    });
  };
  const onCache = (message: unknown) => {
    const event = message as CacheEvent;
    decisions.add(1, { "keyway.backend": event.backend, "keyway.cache.decision": event.decision });
  };
  const onResolve = (message: unknown) => {
    const event = message as ResolveEvent;
    // No backend for a miss that climbed every level: then the attribute is left out.
    const where: OtelApi.Attributes = event.backend === undefined ? {} : { "keyway.backend": event.backend };
    if (event.stale) staleServed.add(1, where);
    if (event.outcome !== "ok") errors.add(1, { ...where, "keyway.error.code": event.outcome });
  };
  const onBreaker = (message: unknown) => {
    const event = message as BreakerEvent;
    breakers.set(event.backend, event.state);
  };

  const onChange = (message: unknown) => {
    const event = message as ChangeEvent;
    const backend = event.backend ?? event.previousBackend;
    changes.add(1, backend === undefined ? {} : { "keyway.backend": backend });
  };

  const subscriptions: Array<[string, (message: unknown) => void]> = [
    [CHANNELS.backend, guard(onBackend)],
    [CHANNELS.cache, guard(onCache)],
    [CHANNELS.resolve, guard(onResolve)],
    [CHANNELS.breaker, guard(onBreaker)],
    [CHANNELS.change, guard(onChange)],
  ];
  for (const [name, listener] of subscriptions) diagnostics.subscribe(name, listener);

  let enabled = true;
  return {
    disable() {
      if (!enabled) return;
      enabled = false;
      for (const [name, listener] of subscriptions) diagnostics.unsubscribe(name, listener);
      breakerState.removeCallback(observeBreakers);
      breakers.clear();
    },
  };
}

/**
 * A subscriber that throws would crash the process (diagnostics_channel rethrows on the next
 * tick), so a failing SDK costs the data point, never the resolve.
 */
function guard(listener: (message: unknown) => void): (message: unknown) => void {
  return (message) => {
    try {
      listener(message);
    } catch {
      // dropped: telemetry must not break secrets
    }
  };
}

/**
 * Not-found is an answer, not a failure: inheritance climbs on it and `errorOnMissing=false`
 * expects it, so a backend span for a miss keeps the unset status (its outcome says NOT_FOUND).
 */
function isFailure(outcome: Outcome): boolean {
  return outcome !== "ok" && outcome !== "NOT_FOUND";
}

/** Names only: the backend, the operation, tenants, namespaces and keys asked for, the outcome. */
function spanAttributes(event: BackendCallEvent): OtelApi.Attributes {
  const attributes: OtelApi.Attributes = {
    "keyway.backend": event.backend,
    "keyway.operation": event.operation,
    "keyway.outcome": event.outcome,
  };
  if (event.operation !== "getMany" && event.refs.length === 1) {
    const ref = event.refs[0] as BackendCallEvent["refs"][number];
    attributes["keyway.namespace"] = ref.namespace;
    attributes["keyway.key"] = ref.key;
    if (ref.tenant !== undefined) attributes["keyway.tenant"] = ref.tenant;
    return attributes;
  }
  attributes["keyway.ref_count"] = event.refs.length;
  attributes["keyway.namespaces"] = unique(event.refs.map((r) => r.namespace));
  attributes["keyway.keys"] = event.refs.map((r) => r.key);
  const tenants = unique(event.refs.map((r) => r.tenant));
  if (tenants.length > 0) attributes["keyway.tenants"] = tenants;
  return attributes;
}

function unique(values: ReadonlyArray<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined))];
}

const require = createRequire(import.meta.url);

function loadApi(): OpenTelemetryApi {
  try {
    return require("@opentelemetry/api") as OpenTelemetryApi;
  } catch (error) {
    throw new ConfigurationError(
      "instrumentKeyway needs the peer dependency @opentelemetry/api: npm install @opentelemetry/api (or pass it as the 'api' option).",
      { cause: error },
    );
  }
}

/** This package's version, for the instrumentation scope (`../package.json` from src/ and dist/). */
function packageVersion(): string | undefined {
  try {
    return (require("../package.json") as { version?: string }).version;
  } catch {
    return undefined;
  }
}
