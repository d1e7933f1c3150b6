/**
 * @keyway/core/otel against the real `@opentelemetry/api`, with an in-memory tracer provider,
 * meter provider and AsyncLocalStorage context manager written here (the SDK packages are not
 * installed; the API's interfaces are small).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { readFileSync } from "node:fs";
import path from "node:path";
import * as api from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  BackendUnavailableError,
  CHANNELS,
  CircuitBreaker,
  createMemoryBackend,
  createRouter,
  type RouterOptions,
  SecretValue,
} from "../src/internal.js";
import { instrumentKeyway, type KeywayInstrumentation } from "../src/otel.js";
import { fakeClock, scriptedBackend } from "./helpers.js";

const SECRET = "otel-secret-value-9f3a7c";

// ---- a minimal in-memory OpenTelemetry: spans, metric points, and a context manager ----

interface RecordedSpan {
  name: string;
  kind: api.SpanKind | undefined;
  attributes: api.Attributes;
  status: api.SpanStatus;
  startTime: number;
  endTime: number | undefined;
  spanId: string;
  parentSpanId: string | undefined;
  scope: string;
}

interface Point {
  instrument: string;
  scope: string;
  value: number;
  attributes: api.Attributes;
}

/** Epoch milliseconds of a TimeInput (the adapter passes epoch ms numbers). */
function millis(time: api.TimeInput | undefined): number {
  if (time === undefined) return performance.timeOrigin + performance.now();
  if (typeof time === "number") return time;
  if (time instanceof Date) return time.getTime();
  return time[0] * 1000 + time[1] / 1e6;
}

class MemorySpan implements api.Span {
  readonly #context: api.SpanContext;
  constructor(readonly record: RecordedSpan) {
    this.#context = { traceId: randomBytes(16).toString("hex"), spanId: record.spanId, traceFlags: 1 };
  }
  spanContext(): api.SpanContext {
    return this.#context;
  }
  setAttribute(key: string, value: api.AttributeValue): this {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: api.Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: api.SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(name: string): this {
    this.record.name = name;
    return this;
  }
  end(endTime?: api.TimeInput): void {
    this.record.endTime = millis(endTime);
  }
  isRecording(): boolean {
    return this.record.endTime === undefined;
  }
  recordException(): void {}
}

class MemoryTelemetry implements api.TracerProvider, api.MeterProvider {
  spans: RecordedSpan[] = [];
  points: Point[] = [];
  observables: Array<{ instrument: string; scope: string; callbacks: Set<api.ObservableCallback> }> = [];
  /** Makes startSpan throw, to check a failing SDK cannot break a resolve. */
  failing = false;

  getTracer(scope: string): api.Tracer {
    const startSpan = (name: string, options: api.SpanOptions = {}, context = api.context.active()) => {
      if (this.failing) throw new Error("exporter exploded");
      const record: RecordedSpan = {
        name,
        kind: options.kind,
        attributes: { ...options.attributes },
        status: { code: api.SpanStatusCode.UNSET },
        startTime: millis(options.startTime),
        endTime: undefined,
        spanId: randomBytes(8).toString("hex"),
        parentSpanId: api.trace.getSpan(context)?.spanContext().spanId,
        scope,
      };
      this.spans.push(record);
      return new MemorySpan(record);
    };
    const startActiveSpan = (name: string, ...rest: unknown[]) => {
      const fn = rest.pop() as (span: api.Span) => unknown;
      const span = startSpan(name, (rest[0] as api.SpanOptions | undefined) ?? {});
      return api.context.with(api.trace.setSpan(api.context.active(), span), () => fn(span));
    };
    return { startSpan, startActiveSpan } as api.Tracer;
  }

  getMeter(scope: string): api.Meter {
    const recorder = (instrument: string) => ({
      record: (value: number, attributes: api.Attributes = {}) =>
        this.points.push({ instrument, scope, value, attributes }),
      add: (value: number, attributes: api.Attributes = {}) =>
        this.points.push({ instrument, scope, value, attributes }),
    });
    const observable = (instrument: string) => {
      const entry = { instrument, scope, callbacks: new Set<api.ObservableCallback>() };
      this.observables.push(entry);
      return {
        addCallback: (cb: api.ObservableCallback) => entry.callbacks.add(cb),
        removeCallback: (cb: api.ObservableCallback) => entry.callbacks.delete(cb),
      };
    };
    return {
      createHistogram: recorder,
      createCounter: recorder,
      createUpDownCounter: recorder,
      createGauge: recorder,
      createObservableGauge: observable,
      createObservableCounter: observable,
      createObservableUpDownCounter: observable,
      addBatchObservableCallback() {},
      removeBatchObservableCallback() {},
    } as unknown as api.Meter;
  }

  /** Runs every observable callback, as a metric reader's collection would. */
  collect(): Point[] {
    const out: Point[] = [];
    for (const { instrument, scope, callbacks } of this.observables) {
      for (const cb of callbacks) {
        void cb({ observe: (value, attributes = {}) => out.push({ instrument, scope, value, attributes }) });
      }
    }
    return out;
  }

  reset(): void {
    this.spans = [];
    this.points = [];
  }

  sum(instrument: string, attributes: api.Attributes): number {
    return this.points
      .filter((p) => p.instrument === instrument)
      .filter((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))
      .reduce((n, p) => n + p.value, 0);
  }
}

class AsyncLocalContextManager implements api.ContextManager {
  readonly #storage = new AsyncLocalStorage<api.Context>();
  active(): api.Context {
    return this.#storage.getStore() ?? api.ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: api.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(context, () => fn.call(thisArg, ...args));
  }
  bind<T>(_context: api.Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.#storage.disable();
    return this;
  }
}

const otel = new MemoryTelemetry();
const instrumentations: KeywayInstrumentation[] = [];
function instrument(options: Parameters<typeof instrumentKeyway>[0] = { api }): KeywayInstrumentation {
  const instrumentation = instrumentKeyway(options);
  instrumentations.push(instrumentation);
  return instrumentation;
}

beforeAll(() => {
  expect(api.trace.setGlobalTracerProvider(otel)).toBe(true);
  expect(api.metrics.setGlobalMeterProvider(otel)).toBe(true);
  expect(api.context.setGlobalContextManager(new AsyncLocalContextManager())).toBe(true);
});
beforeEach(() => {
  for (const i of instrumentations.splice(0)) i.disable();
  otel.reset();
  otel.failing = false;
});
afterAll(() => {
  for (const i of instrumentations.splice(0)) i.disable();
  api.trace.disable();
  api.metrics.disable();
  api.context.disable();
});

const noRetry: Partial<RouterOptions> = { retry: { attempts: 1 } };
const backendSpans = () => otel.spans.filter((s) => s.name.startsWith("keyway.backend."));

describe("instrumentKeyway: spans", () => {
  it("one CLIENT span per backend get, under the caller's span, with names, outcome and the request's time", async () => {
    instrument();
    const backend = scriptedBackend({ K: SECRET }, { latencyMs: 40 });
    const router = createRouter({
      backends: { s: backend },
      rules: [{ match: "", backend: "s" }],
      ...noRetry,
    });
    const tracer = api.trace.getTracer("app");
    const before = performance.timeOrigin + performance.now();
    const value = await tracer.startActiveSpan("task", async (task) => {
      const v = await router.resolve({ namespace: "team.etl", key: "K", tenant: undefined });
      task.end();
      return v;
    });
    const after = performance.timeOrigin + performance.now();
    expect(value.reveal()).toBe(SECRET);
    const task = otel.spans.find((s) => s.name === "task");
    const [span, ...more] = backendSpans();
    expect(more).toEqual([]);
    expect(span).toMatchObject({
      name: "keyway.backend.get",
      kind: api.SpanKind.CLIENT,
      scope: "@keyway/core",
      parentSpanId: task?.spanId,
      status: { code: api.SpanStatusCode.UNSET },
      attributes: {
        "keyway.backend": "scripted",
        "keyway.operation": "get",
        "keyway.namespace": "team.etl",
        "keyway.key": "K",
        "keyway.outcome": "ok",
      },
    });
    const s = span as RecordedSpan;
    expect((s.endTime as number) - s.startTime).toBeGreaterThanOrEqual(35);
    expect(s.startTime).toBeGreaterThanOrEqual(before - 1);
    expect(s.endTime).toBeLessThanOrEqual(after + 1);
  });

  it("a miss keeps the unset status (inheritance climbs on it); an unavailable backend is an error", async () => {
    instrument();
    const backend = scriptedBackend({ DOWN: new BackendUnavailableError("connection refused") });
    const router = createRouter({
      backends: { s: backend },
      rules: [{ match: "", backend: "s" }],
      ...noRetry,
    });
    await expect(router.resolve({ namespace: "a", key: "NOPE" })).rejects.toThrow(/Cannot find/);
    await expect(router.resolve({ namespace: "", key: "DOWN" })).rejects.toThrow();
    const byKey = (key: string) => backendSpans().filter((s) => s.attributes["keyway.key"] === key);
    // 'a' then the root: two misses, each a span with outcome NOT_FOUND and no error status.
    expect(
      byKey("NOPE").map((s) => [s.attributes["keyway.namespace"], s.attributes["keyway.outcome"]]),
    ).toEqual([
      ["a", "NOT_FOUND"],
      ["", "NOT_FOUND"],
    ]);
    expect(byKey("NOPE").every((s) => s.status.code === api.SpanStatusCode.UNSET)).toBe(true);
    expect(byKey("DOWN")).toEqual([
      expect.objectContaining({
        status: { code: api.SpanStatusCode.ERROR, message: "UNAVAILABLE" },
        attributes: expect.objectContaining({ "keyway.outcome": "UNAVAILABLE", "error.type": "UNAVAILABLE" }),
      }),
    ]);
  });

  it("a batch read is one getMany span naming every key and namespace", async () => {
    instrument();
    const backend = scriptedBackend({ A: SECRET, B: `${SECRET}-b` }, { batch: true });
    const router = createRouter({ backends: { s: backend }, rules: [{ match: "", backend: "s" }] });
    await Promise.all([
      router.resolve({ namespace: "x", key: "A" }),
      router.resolve({ namespace: "y.z", key: "B" }),
    ]);
    expect(backend.batchCalls).toHaveLength(1);
    expect(backendSpans()).toEqual([
      expect.objectContaining({
        name: "keyway.backend.getMany",
        attributes: {
          "keyway.backend": "scripted",
          "keyway.operation": "getMany",
          "keyway.outcome": "ok",
          "keyway.ref_count": 2,
          "keyway.namespaces": ["x", "y.z"],
          "keyway.keys": ["A", "B"],
        },
      }),
    ]);
  });

  it("uses the installed @opentelemetry/api when none is passed (the same global providers)", async () => {
    instrument({ tracerName: "custom-tracer", meterName: "custom-meter" });
    const router = createRouter({
      backends: { s: scriptedBackend({ K: SECRET }) },
      rules: [{ match: "", backend: "s" }],
    });
    await router.resolve({ namespace: "", key: "K" });
    expect(backendSpans().map((s) => s.scope)).toEqual(["custom-tracer"]);
    expect(otel.points.find((p) => p.instrument === "keyway.backend.duration")?.scope).toBe("custom-meter");
  });

  it("a throwing SDK costs the data point, never the resolve (no uncaught error)", async () => {
    instrument();
    otel.failing = true;
    const router = createRouter({
      backends: { s: scriptedBackend({ K: SECRET }) },
      rules: [{ match: "", backend: "s" }],
    });
    expect((await router.resolve({ namespace: "", key: "K" })).reveal()).toBe(SECRET);
    // diagnostics_channel rethrows a subscriber's error on process.nextTick: one turn of the event
    // loop lets it land here, however busy the machine (not a fixed 10 ms).
    await new Promise((r) => setImmediate(r));
    expect(otel.spans).toEqual([]);
  });
});

describe("instrumentKeyway: metrics", () => {
  it("backend latency, cache decisions, errors by code, stale served; attributes never name a key", async () => {
    instrument();
    const clock = fakeClock();
    let down = false;
    // Named as its rule names it: backend events carry backend.name, resolve events the rule's name.
    const backend = scriptedBackend(
      { K: () => (down ? Promise.reject(new BackendUnavailableError("down")) : Promise.resolve(SECRET)) },
      { name: "s" },
    );
    const router = createRouter({
      backends: { s: backend },
      rules: [{ match: "", backend: "s" }],
      cache: { ttlMs: 1000, staleIfErrorMs: 60_000, jitter: 0, clock },
      ...noRetry,
    });
    await router.resolve({ namespace: "", key: "K" }); // miss → backend ok
    await router.resolve({ namespace: "", key: "K" }); // hit
    await router.resolve({ namespace: "", key: "MISSING" }).catch(() => {}); // miss → NOT_FOUND
    clock.advance(2000);
    down = true;
    const stale = await router.resolve({ namespace: "", key: "K" }); // miss → unavailable → stale
    expect(stale.stale).toBe(true);

    expect(otel.sum("keyway.cache.decisions", { "keyway.cache.decision": "miss" })).toBe(3);
    expect(otel.sum("keyway.cache.decisions", { "keyway.cache.decision": "hit" })).toBe(1);
    expect(otel.sum("keyway.cache.stale_served", { "keyway.backend": "s" })).toBe(1);
    // A miss after climbing every level has no one backend to blame.
    expect(otel.points.filter((p) => p.instrument === "keyway.errors")).toMatchObject([
      { value: 1, attributes: { "keyway.error.code": "NOT_FOUND" } },
    ]);
    const durations = otel.points.filter((p) => p.instrument === "keyway.backend.duration");
    expect(durations.map((p) => p.attributes)).toEqual([
      { "keyway.backend": "s", "keyway.operation": "get", "keyway.outcome": "ok" },
      { "keyway.backend": "s", "keyway.operation": "get", "keyway.outcome": "NOT_FOUND" },
      { "keyway.backend": "s", "keyway.operation": "get", "keyway.outcome": "UNAVAILABLE" },
    ]);
    expect(durations.every((p) => p.value >= 0)).toBe(true);
    // Metric attributes stay low-cardinality: no key, namespace or tenant.
    const keys = new Set(otel.points.flatMap((p) => Object.keys(p.attributes)));
    expect([...keys].sort()).toEqual([
      "keyway.backend",
      "keyway.cache.decision",
      "keyway.error.code",
      "keyway.operation",
      "keyway.outcome",
    ]);
  });

  it("the latency histogram records the request's duration in ms", async () => {
    instrument();
    const router = createRouter({
      backends: { s: scriptedBackend({ K: SECRET }, { latencyMs: 30 }) },
      rules: [{ match: "", backend: "s" }],
    });
    await router.resolve({ namespace: "", key: "K" });
    const [point] = otel.points.filter((p) => p.instrument === "keyway.backend.duration");
    expect(point?.value).toBeGreaterThanOrEqual(25);
    expect(point?.value).toBeLessThan(5000);
  });

  it("a watched change counts once in keyway.changes; probes are keyway.backend.probeVersion spans", async () => {
    instrument();
    const memory = createMemoryBackend({ initial: { "app/W": SECRET } });
    const router = createRouter({ backends: { m: memory }, rules: [{ match: "", backend: "m" }] });
    // Three watchers of one secret: one change all the same.
    const changed = new Promise<void>((resolve) => {
      for (let i = 0; i < 3; i++)
        router.watch({ namespace: "app", key: "W" }, () => resolve(), { intervalMs: 1 });
    });
    while (!otel.spans.some((s) => s.name === "keyway.backend.probeVersion"))
      await new Promise((r) => setTimeout(r, 1));
    await memory.put?.({ namespace: "app", key: "W" }, `${SECRET}-2`);
    await changed;
    await router.close();
    expect(otel.points.filter((p) => p.instrument === "keyway.changes")).toEqual([
      expect.objectContaining({ value: 1, attributes: { "keyway.backend": "m" } }),
    ]);
    const probe = otel.spans.find((s) => s.name === "keyway.backend.probeVersion");
    expect(probe?.attributes).toMatchObject({ "keyway.key": "W", "keyway.namespace": "app" });
    expect(JSON.stringify([otel.spans, otel.points])).not.toContain(SECRET);
  });

  it("breaker state per backend as an observable gauge: 2 open, 1 probing, 0 closed", async () => {
    instrument();
    const clock = fakeClock();
    const breaker = new CircuitBreaker("b", { threshold: 1, cooldownMs: 1000 }, clock);
    const gauge = () => otel.collect().filter((p) => p.instrument === "keyway.breaker.state");
    expect(gauge()).toEqual([]);
    await breaker.run(() => Promise.reject(new BackendUnavailableError("down"))).catch(() => {});
    expect(gauge()).toMatchObject([{ value: 2, attributes: { "keyway.backend": "b" } }]);
    clock.advance(1001);
    let release = () => {};
    const probe = breaker.run(() => new Promise<void>((r) => (release = r)));
    expect(gauge()).toMatchObject([{ value: 1, attributes: { "keyway.backend": "b" } }]);
    release();
    await probe;
    expect(gauge()).toMatchObject([{ value: 0, attributes: { "keyway.backend": "b" } }]);
  });
});

describe("instrumentKeyway: never a value, and a clean off switch", () => {
  it("no span, attribute, status or metric point holds a value, its base64 or its hex", async () => {
    instrument();
    const bytes = Buffer.from(`${SECRET}-bytes`);
    const backend = scriptedBackend({ T: SECRET, DOWN: new BackendUnavailableError(`down ${SECRET}`) });
    backend.get = async (ref) => {
      backend.calls.push(ref.key);
      if (ref.key === "BIN") return SecretValue.fromBytes(bytes);
      if (ref.key === "DOWN") throw new BackendUnavailableError(`down while reading ${SECRET}`);
      return SecretValue.fromText(SECRET);
    };
    const router = createRouter({
      backends: { s: backend },
      rules: [{ match: "", backend: "s" }],
      ...noRetry,
    });
    await router.resolve({ namespace: "", key: "T" });
    await router.resolve({ namespace: "", key: "BIN" });
    await router.resolve({ namespace: "", key: "DOWN" }).catch(() => {});
    await router.render("x: {{ secret('T') }}", { namespace: "" });
    const dump = JSON.stringify([otel.spans, otel.points, otel.collect()]);
    expect(otel.spans.length).toBeGreaterThanOrEqual(3);
    for (const form of [
      SECRET,
      Buffer.from(SECRET).toString("base64"),
      Buffer.from(SECRET).toString("hex"),
      bytes.toString("base64"),
    ]) {
      expect(dump).not.toContain(form);
    }
  });

  it("disable() unsubscribes every channel and stops the gauge; calling it twice is fine", async () => {
    const instrumentation = instrument();
    for (const name of Object.values(CHANNELS)) expect(diagnostics.channel(name).hasSubscribers).toBe(true);
    const breaker = new CircuitBreaker("b", { threshold: 1 });
    await breaker.run(() => Promise.reject(new BackendUnavailableError("down"))).catch(() => {});
    expect(otel.collect()).toHaveLength(1);
    instrumentation.disable();
    instrumentation.disable();
    for (const name of Object.values(CHANNELS)) expect(diagnostics.channel(name).hasSubscribers).toBe(false);
    const router = createRouter({
      backends: { s: scriptedBackend({ K: SECRET }) },
      rules: [{ match: "", backend: "s" }],
    });
    await router.resolve({ namespace: "", key: "K" });
    expect(otel.spans).toEqual([]);
    expect(otel.points).toEqual([]);
    expect(otel.collect()).toEqual([]);
  });
});

describe("the main entry stays free of OpenTelemetry", () => {
  it("nothing reachable from src/index.ts imports otel.ts or @opentelemetry/*", () => {
    const src = path.resolve(__dirname, "../src");
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      expect(text, `${path.relative(src, file)} mentions @opentelemetry in an import`).not.toMatch(
        /from\s+["']@opentelemetry|import\(\s*["']@opentelemetry|require\(\s*["']@opentelemetry/,
      );
      for (const [, spec] of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.[^"']+)["']/g)) {
        visit(path.resolve(path.dirname(file), (spec as string).replace(/\.js$/, ".ts")));
      }
    };
    visit(path.join(src, "index.ts"));
    expect(seen.size).toBeGreaterThan(10); // the walk follows the graph
    expect([...seen].map((f) => path.basename(f))).not.toContain("otel.ts");
  });
});
