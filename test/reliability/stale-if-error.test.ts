// Stale-if-error holds exactly: an expired value is served only while the backend is unavailable,
// only up to `staleIfError` past its TTL, never after the backend said not-found, denied or
// disabled; past the bound the caller gets a typed unavailable error; no wrong value ever.
// First as a property over random histories (fake clock, scripted backend), then against the
// real servers with the outage made by Toxiproxy and the answers made by the servers themselves.
import {
  AccessDeniedError,
  BackendUnavailableError,
  createResolver,
  isSecretsError,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "@keyway/core";
import fc from "fast-check";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, directBackend, GET_ONLY, runId, seed, serverInfo } from "./support/backends.js";
import { expectValue, failure, settled, watchUnhandledRejections } from "./support/checks.js";
import { type Fixture, fixture } from "./support/fixture.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
const { assertNoUnhandled } = watchUnhandledRejections();

type Mode = "ok" | "unavailable" | "notfound" | "denied" | "disabled";
type Step =
  | { kind: "advance"; ms: number }
  | { kind: "mode"; key: string; mode: Mode }
  | { kind: "resolve"; key: string; callers: number };

const KEYS = ["A", "B", "C"];

describe("stale-if-error, as a property of random histories", () => {
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant("advance" as const),
        ms: fc.oneof(
          fc.constantFrom(1, 20, 50, 99, 100, 101, 460, 990, 999, 1000, 1001, 2000, 3000),
          fc.integer({ min: 0, max: 4000 }),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("mode" as const),
        key: fc.constantFrom(...KEYS),
        mode: fc.constantFrom<Mode>(
          "ok",
          "ok",
          "unavailable",
          "unavailable",
          "notfound",
          "denied",
          "disabled",
        ),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("resolve" as const),
        key: fc.constantFrom(...KEYS),
        callers: fc.constantFrom(1, 1, 3),
      }),
    },
  );

  it("never serves a wrong, too old or poisoned value, and serves stale exactly when it should", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 5, maxLength: 40 }),
        fc.constantFrom(500, 1000),
        fc.constantFrom(0, 1500, 3000),
        fc.constantFrom(0, 700),
        fc.constantFrom(0, 0.1),
        async (steps, ttlMs, staleIfErrorMs, negativeTtlMs, refreshAhead) => {
          let now = 1_000_000;
          const clock = { now: () => now };
          const modes = new Map<string, Mode>(KEYS.map((k) => [k, "ok"]));
          const versions = new Map<string, number>(KEYS.map((k) => [k, 1]));
          /** Every answer the backend gave, per key, in order. */
          const answers = new Map<string, Array<{ at: number; mode: Mode; value?: string }>>(
            KEYS.map((k) => [k, []]),
          );
          const backend = {
            name: "scripted",
            capabilities: GET_ONLY,
            async get(ref: SecretRef): Promise<SecretValue> {
              const mode = modes.get(ref.key) as Mode;
              const value = `${ref.key}-value-${versions.get(ref.key)}`;
              answers.get(ref.key)?.push({ at: now, mode, ...(mode === "ok" ? { value } : {}) });
              count("backendCalls");
              if (mode === "ok") return SecretValue.fromText(value);
              if (mode === "notfound") throw new SecretNotFoundError(ref.key);
              if (mode === "denied") throw new AccessDeniedError("denied");
              if (mode === "disabled") throw new SecretDisabledError("disabled");
              throw new BackendUnavailableError("down");
            },
          };
          const resolver = createResolver({
            backend,
            timeoutMs: 5_000,
            retry: { attempts: 2, baseDelayMs: 0 },
            breaker: { threshold: 0 },
            cache: {
              ttlMs,
              jitter: 0,
              negativeTtlMs,
              staleIfErrorMs,
              staleRetryMs: 100,
              refreshAhead,
              clock,
            },
          });
          try {
            for (const s of steps) {
              if (s.kind === "advance") now += s.ms;
              else if (s.kind === "mode") {
                modes.set(s.key, s.mode);
                if (s.mode === "ok") versions.set(s.key, (versions.get(s.key) ?? 0) + 1);
              } else {
                // A resolve may see the answers given before it started or any given while it ran.
                const before = answers.get(s.key)?.length ?? 0;
                const results = await Promise.allSettled(
                  Array.from({ length: s.callers }, () => resolver.resolve({ namespace: "ns", key: s.key })),
                );
                const after = answers.get(s.key)?.length ?? 0;
                for (const result of results) check(s.key, result, before, after);
                // Background refreshes (refresh-ahead) finish before the next step.
                await new Promise((r) => setTimeout(r, 0));
              }
            }
          } finally {
            await resolver.close();
          }

          function check(
            key: string,
            result: PromiseSettledResult<SecretValue>,
            before: number,
            after: number,
          ): void {
            count("resolvesChecked");
            const all = answers.get(key) ?? [];
            const verdicts: string[] = [];
            for (let seen = before; seen <= after; seen++) {
              const verdict = judge(all.slice(0, seen), result);
              if (verdict === undefined) return;
              verdicts.push(verdict);
            }
            if (result.status === "fulfilled") count("wrongValues");
            expect.fail(`${key} at ${now}: ${verdicts[0]}; answers ${JSON.stringify(all)}`);
          }

          /** Why `result` is wrong after the answers in `log`, or undefined when it is right. */
          function judge(
            log: Array<{ at: number; mode: Mode; value?: string }>,
            result: PromiseSettledResult<SecretValue>,
          ): string | undefined {
            const lastOk = [...log].reverse().find((a) => a.mode === "ok");
            const last = log.at(-1);
            const poisoned =
              lastOk !== undefined &&
              log.slice(log.lastIndexOf(lastOk) + 1).some((a) => a.mode !== "ok" && a.mode !== "unavailable");
            if (result.status === "fulfilled") {
              const value = result.value;
              const ok =
                lastOk !== undefined &&
                value.reveal() === lastOk.value &&
                !poisoned &&
                (value.stale
                  ? last?.mode === "unavailable" &&
                    now >= lastOk.at + ttlMs &&
                    now < lastOk.at + ttlMs + staleIfErrorMs
                  : now <= lastOk.at + ttlMs); // lru-cache's TTL is inclusive: fresh through its last millisecond
              return ok ? undefined : `served ${value.reveal()} (stale ${value.stale})`;
            }
            const error = result.reason as Error;
            if (!isSecretsError(error)) return `untyped ${String(error)}`;
            const expected = {
              notfound: SecretNotFoundError,
              denied: AccessDeniedError,
              disabled: SecretDisabledError,
              unavailable: BackendUnavailableError,
              ok: undefined,
            }[last?.mode ?? "ok"];
            if (!expected || !(error instanceof expected)) return `failed with ${error.name}`;
            // Unavailable with a value still within the bound and not poisoned: stale was owed.
            if (
              error instanceof BackendUnavailableError &&
              lastOk &&
              !poisoned &&
              now >= lastOk.at + ttlMs &&
              now < lastOk.at + ttlMs + staleIfErrorMs
            ) {
              return `unavailable although ${lastOk.value} (fetched at ${lastOk.at}) was servable stale`;
            }
            return undefined;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("a refresh-ahead that meets an outage", () => {
  // Found by this suite: a background refresh in the last part of the TTL that met an unavailable
  // backend kept the value, unmarked, for `staleRetryMs` past its TTL, so callers got an expired
  // value with `stale: false` (and no staleServed count, and a "hit" on the telemetry channel).
  it("marks the value stale as soon as its TTL is over", async () => {
    let now = 1_000_000;
    let down = false;
    let failedWhileDown: () => void = () => {};
    const refreshFailed = new Promise<void>((resolve) => {
      failedWhileDown = resolve;
    });
    const backend = {
      name: "scripted",
      capabilities: GET_ONLY,
      async get(): Promise<SecretValue> {
        count("backendCalls");
        if (down) {
          failedWhileDown();
          throw new BackendUnavailableError("down");
        }
        return SecretValue.fromText("the-value");
      },
    };
    const resolver = createResolver({
      backend,
      breaker: { threshold: 0 },
      retry: { attempts: 1 },
      cache: {
        ttlMs: 1000,
        jitter: 0,
        refreshAhead: 0.1,
        staleIfErrorMs: 5000,
        staleRetryMs: 100,
        clock: { now: () => now },
      },
    });
    const ref = { namespace: "a", key: "K" };
    expectValue(await resolver.resolve(ref), "the-value");
    down = true;
    now = 1_000_990; // in the refresh-ahead window: served from cache, refreshed in the background
    expect((await resolver.resolve(ref)).stale).toBe(false);
    // The background refresh reached the backend and failed; one turn of the event loop lets the
    // cache take that failure in (an event, not a fixed 10 ms: trust issue #20 point 9).
    await refreshFailed;
    await new Promise((r) => setImmediate(r));
    now = 1_001_050; // past the TTL, backend down: the value may be served, but only marked stale
    const late = await resolver.resolve(ref);
    expectValue(late, "the-value");
    expect(late.stale, "an expired value was served unmarked").toBe(true);
    await resolver.close();
  });
});

describe.each(BACKENDS)("stale-if-error against %s", (kind) => {
  const TTL = 300;
  const STALE = 1_200;
  const TIMEOUT = 600;
  const scope = runId();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // The cache's clock is the test's: expiry and the stale bound are exact, and a busy machine
  // cannot move them (they were real sleeps of TTL + 20 ms; trust issue #20 point 9). The
  // deadline is still real time: the outage is real.
  let now = 1_000_000;
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
    await assertNoUnhandled();
  });
  const open = () =>
    fixture(kind, scope, {
      timeoutMs: TIMEOUT,
      cache: {
        ttlMs: TTL,
        jitter: 0,
        refreshAhead: 0,
        negativeTtlMs: 0,
        staleIfErrorMs: STALE,
        staleRetryMs: 100,
        clock: { now: () => now },
      },
    });

  it("serves the expired value, marked stale, only while the backend is down and only up to the bound", async () => {
    const ref = { namespace: "rel.stale", key: `UP_${runId()}` };
    const value = `stale-${runId()}`;
    await seed(kind, scope, [[ref, value]]);
    f = await open();
    const first = await settled(f.resolver.resolve(ref), TIMEOUT);
    if (!first.ok) throw first.error;
    expectValue(first.value, value);
    const fetchedAt = now;
    expect(first.value.stale).toBe(false);
    await f.link.disable();
    now += TTL + 1;
    let served = 0;
    // Until the bound: the stale value; from it on: the error.
    for (;;) {
      const outcome = await settled(f.resolver.resolve(ref), TIMEOUT);
      const age = now - fetchedAt;
      if (outcome.ok) {
        expectValue(outcome.value, value);
        expect(outcome.value.stale).toBe(true);
        expect(age).toBeLessThan(TTL + STALE);
        served++;
      } else {
        expect(failure(outcome)).toBeInstanceOf(BackendUnavailableError);
        expect(age).toBeGreaterThanOrEqual(TTL + STALE);
        break;
      }
      now += 100;
    }
    // Ages 301, 401, ... 1,401 ms: every one of them before the bound of 1,500 ms.
    expect(served).toBe(12);
    // Still down and past the bound: fail closed, every time.
    const after = await settled(f.resolver.resolve(ref), TIMEOUT);
    expect(failure(after)).toBeInstanceOf(BackendUnavailableError);
    // Back up: a fresh value again.
    await f.link.heal();
    let fresh: SecretValue | undefined;
    // Until the client has reconnected (gRPC on its own backoff): bounded by the test's timeout.
    while (!fresh) {
      const outcome = await settled(f.resolver.resolve(ref), TIMEOUT);
      if (outcome.ok) fresh = outcome.value;
      else {
        expect(failure(outcome)).toBeInstanceOf(BackendUnavailableError);
        now += 100;
        await sleep(100);
      }
    }
    expectValue(fresh, value);
    expect(fresh.stale).toBe(false);
  });

  it("never serves stale once the backend says not found, even when it goes down afterwards", async () => {
    const ref = { namespace: "rel.stale", key: `GONE_${runId()}` };
    const value = `gone-${runId()}`;
    await seed(kind, scope, [[ref, value]]);
    f = await open();
    const first = await settled(f.resolver.resolve(ref), TIMEOUT);
    if (!first.ok) throw first.error;
    expectValue(first.value, value);
    const direct = directBackend(kind, scope);
    await direct.delete?.(ref);
    await direct.close?.();
    now += TTL + 1;
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(SecretNotFoundError);
    await f.link.disable();
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(BackendUnavailableError);
  });
});

describe("stale-if-error never outlives a denial or a disabled version (OpenBao)", () => {
  const TTL = 300;
  const TIMEOUT = 600;
  const bao = serverInfo("openbao");
  const scope = runId();
  const sys = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${bao.endpoint}/v1/${path}`, {
      method,
      headers: { "x-vault-token": bao.extra.rootToken ?? "root" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? (JSON.parse(text) as { auth?: { client_token: string } }) : {};
  };
  let f: Fixture | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });
  beforeAll(async () => {
    await sys("PUT", `sys/policies/acl/rel-read-${scope}`, {
      policy: `path "secret/data/rel-${scope}/*" { capabilities = ["read"] }`,
    });
  });
  // The cache's clock is the test's: the TTL is over when the test says so (trust issue #20 point 9).
  let now = 1_000_000;
  const cache = {
    ttlMs: TTL,
    jitter: 0,
    refreshAhead: 0,
    negativeTtlMs: 0,
    staleIfErrorMs: 60_000,
    clock: { now: () => now },
  };

  it("denied: a revoked token gets AccessDeniedError, then unavailable, never the cached value", async () => {
    const ref = { namespace: "rel.denied", key: "TOKEN" };
    const value = `denied-${runId()}`;
    await seed("openbao", scope, [[ref, value]]);
    const token = (await sys("POST", "auth/token/create", { policies: [`rel-read-${scope}`], ttl: "10m" }))
      .auth?.client_token as string;
    f = await fixture("openbao", scope, { timeoutMs: TIMEOUT, cache, token });
    const first = await settled(f.resolver.resolve(ref), TIMEOUT);
    if (!first.ok) throw first.error;
    expectValue(first.value, value);
    await sys("POST", "auth/token/revoke", { token });
    now += TTL + 1;
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(AccessDeniedError);
    await f.link.disable();
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(BackendUnavailableError);
  });

  it("disabled: a deleted current version gets SecretDisabledError, then unavailable, never the cached value", async () => {
    const ref = { namespace: "rel.disabled", key: "TOKEN" };
    const value = `disabled-${runId()}`;
    await seed("openbao", scope, [[ref, value]]);
    f = await fixture("openbao", scope, { timeoutMs: TIMEOUT, cache });
    const first = await settled(f.resolver.resolve(ref), TIMEOUT);
    if (!first.ok) throw first.error;
    expectValue(first.value, value);
    await sys("DELETE", `secret/data/rel-${scope}/_/rel/disabled/TOKEN`);
    now += TTL + 1;
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(SecretDisabledError);
    await f.link.disable();
    expect(failure(await settled(f.resolver.resolve(ref), TIMEOUT))).toBeInstanceOf(BackendUnavailableError);
  });
});
