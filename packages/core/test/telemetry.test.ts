import diagnostics from "node:diagnostics_channel";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import {
  type AuditEvent,
  BackendUnavailableError,
  CHANNELS,
  CircuitBreaker,
  createJsonLinesAuditSink,
  createMemoryBackend,
  createRouter,
} from "../src/internal.js";
import { fakeClock, scriptedBackend } from "./helpers.js";

const SECRET = "telemetry-secret-value-123";
const subscriptions: Array<[string, (m: unknown) => void]> = [];
function listen(name: string): unknown[] {
  const seen: unknown[] = [];
  const fn = (m: unknown) => seen.push(m);
  diagnostics.subscribe(name, fn);
  subscriptions.push([name, fn]);
  return seen;
}
afterEach(() => {
  for (const [name, fn] of subscriptions.splice(0)) diagnostics.unsubscribe(name, fn);
});

describe("diagnostics channels", () => {
  it("publish resolves, backend calls and cache decisions, never a value", async () => {
    const resolves = listen(CHANNELS.resolve);
    const calls = listen(CHANNELS.backend);
    const cache = listen(CHANNELS.cache);
    const router = createRouter({
      backends: { m: createMemoryBackend({ initial: { "a/K": SECRET } }) },
      rules: [{ match: "", backend: "m" }],
    });
    await router.resolve({ namespace: "a.b", key: "K" }, { executionId: "exec-1" });
    await router.resolve({ namespace: "a.b", key: "K" });
    expect(resolves).toHaveLength(2);
    expect(resolves[0]).toMatchObject({
      namespace: "a.b",
      key: "K",
      backend: "m",
      foundIn: "a",
      outcome: "ok",
      executionId: "exec-1",
    });
    expect(calls.map((c) => (c as { outcome: string }).outcome)).toEqual(["NOT_FOUND", "ok"]);
    expect(cache.map((c) => (c as { decision: string }).decision)).toEqual([
      "miss",
      "miss",
      "negative-hit",
      "hit",
    ]);
    expect(JSON.stringify([resolves, calls, cache])).not.toContain(SECRET);
  });
});

describe("audit", () => {
  it("one event per access with outcome and execution id, written as JSON lines, never a value", async () => {
    const file = path.join(await tempDir("keyway-audit-"), "audit.jsonl");
    const sink = createJsonLinesAuditSink(file);
    const events: AuditEvent[] = [];
    const router = createRouter({
      backends: { m: createMemoryBackend({ initial: { "a/K": SECRET } }) },
      rules: [{ match: "", backend: "m" }],
      audit: async (e) => {
        events.push(e);
        await sink(e);
      },
    });
    await router.resolve({ namespace: "a", key: "K" }, { executionId: "e-42" });
    await router.resolve({ namespace: "a", key: "NOPE" }).catch(() => {});
    // close() waits for the sink's writes (trust issue #20 point 9: no fixed 20 ms wait).
    await router.close();
    expect(events.map((e) => [e.key, e.outcome, e.executionId])).toEqual([
      ["K", "ok", "e-42"],
      ["NOPE", "NOT_FOUND", undefined],
    ]);
    const lines = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it("router.close() waits for an async sink that resolves late, so the last events are not lost (issue #20 point 9)", async () => {
    const written: AuditEvent[] = [];
    // A slow sink (a remote log, a busy disk): each write settles only after a few turns of the
    // event loop, long after the resolve that caused it has returned.
    const slowSink = async (event: AuditEvent) => {
      for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r));
      written.push(event);
    };
    const memory = createMemoryBackend({ initial: { "ci.prod/DB_PASSWORD": SECRET } });
    const router = createRouter({
      backends: { m: memory },
      rules: [{ match: "", backend: "m" }],
      audit: slowSink,
    });
    await router.resolve({ namespace: "ci.prod", key: "DB_PASSWORD" }, { executionId: "exec-last" });
    await router.resolve({ namespace: "ci.prod", key: "../../etc/passwd" }).catch(() => {});
    expect(written).toHaveLength(0); // still in flight when the executor shuts down
    await router.close();
    expect(written.map((e) => [e.key, e.outcome, e.executionId])).toEqual([
      ["DB_PASSWORD", "ok", "exec-last"],
      ["../../etc/passwd", "INVALID_REFERENCE", undefined],
    ]);
    expect(JSON.stringify(written)).not.toContain(SECRET);
  });

  it("router.close() still settles when an audit write fails, and counts the failure (issue #20 point 9)", async () => {
    const router = createRouter({
      backends: { m: createMemoryBackend({ initial: { "/K": SECRET } }) },
      rules: [{ match: "", backend: "m" }],
      audit: async () => {
        await new Promise((r) => setImmediate(r));
        throw new Error("EACCES: permission denied, open '/var/log/keyway-audit.jsonl'");
      },
    });
    await router.resolve({ namespace: "", key: "K" });
    await router.close();
    expect(router.stats().auditFailures).toBe(1);
  });

  it("a failing sink never breaks a resolve and is counted", async () => {
    const router = createRouter({
      backends: { m: createMemoryBackend({ initial: { "/K": SECRET } }) },
      rules: [{ match: "", backend: "m" }],
      audit: () => {
        throw new Error("disk full");
      },
    });
    expect((await router.resolve({ namespace: "", key: "K" })).reveal()).toBe(SECRET);
    expect(router.stats().auditFailures).toBe(1);
  });
});

describe("circuit breaker", () => {
  it("opens after repeated unavailable answers, fails fast, probes once after the cool-down, and closes", async () => {
    const clock = fakeClock();
    const states = listen(CHANNELS.breaker);
    const breaker = new CircuitBreaker("b", { threshold: 3, cooldownMs: 1000 }, clock);
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new BackendUnavailableError("down"));
    };
    for (let i = 0; i < 3; i++) await breaker.run(failing).catch(() => {});
    expect(breaker.state).toBe("open");
    await expect(breaker.run(failing)).rejects.toThrow(/marked down/);
    expect(calls).toBe(3);
    clock.advance(1001);
    expect(breaker.state).toBe("half-open");
    await expect(breaker.run(() => Promise.resolve("ok"))).resolves.toBe("ok");
    expect(breaker.state).toBe("closed");
    expect(states.map((s) => (s as { state: string }).state)).toEqual(["open", "half-open", "closed"]);
  });

  it("not-found and denied are answers: they never open the circuit", async () => {
    const backend = scriptedBackend({}, { name: "s" });
    const router = createRouter({
      backends: { s: backend },
      rules: [{ match: "", backend: "s" }],
      breaker: { threshold: 2 },
    });
    for (let i = 0; i < 5; i++) await router.resolve({ namespace: "", key: `K${i}` }).catch(() => {});
    expect(backend.calls).toHaveLength(5);
  });
});
