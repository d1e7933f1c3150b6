// The router's deadline covers the whole resolve: with a blackholed primary, reads go to the
// replica (rule `fallback`) and still settle by `timeoutMs`; climbing the namespace tree over a
// slow backend settles by it too. OpenBao is the primary, moto the replica.
import {
  AllBackendsFailedError,
  BackendUnavailableError,
  createRouter,
  type Router,
  type SecretRef,
} from "@keyway/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeBackend, runId, seed } from "./support/backends.js";
import { expectValue, failure, SLACK_MS, settled, watchUnhandledRejections } from "./support/checks.js";
import { type FaultyLink, faultyLink } from "./support/faults.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
const { assertNoUnhandled } = watchUnhandledRejections();

const TIMEOUT = 1_000;
const scope = runId();
const ref: SecretRef = { namespace: "rel.fallback.team", key: "DB_PASSWORD" };
const value = `replicated-${runId()}`;

describe("replicas", () => {
  let primary: FaultyLink;
  let replica: FaultyLink;
  let router: Router | undefined;
  beforeAll(async () => {
    await seed("openbao", scope, [[ref, value]]);
    await seed("moto", scope, [[ref, value]]);
  });
  afterEach(async () => {
    if (router) count("backendCalls", router.stats().backendCalls);
    await router?.close();
    router = undefined;
    await primary?.close();
    await replica?.close();
    await assertNoUnhandled();
  });
  const open = async (breaker?: { threshold: number; cooldownMs: number }) => {
    primary = await faultyLink("openbao");
    replica = await faultyLink("moto");
    router = createRouter({
      backends: {
        vault: makeBackend("openbao", { address: primary.address, scope }),
        aws: makeBackend("moto", { address: replica.address, scope }),
      },
      rules: [{ match: "rel.fallback", backend: "vault", fallback: ["aws"] }],
      timeoutMs: TIMEOUT,
      retry: { attempts: 1 },
      cache: { ttlMs: 0, negativeTtlMs: 0 },
      breaker: breaker ?? { threshold: 0 },
    });
    return router;
  };

  it("reads from the primary while it answers, and never asks the replica", async () => {
    const r = await open();
    const outcome = await settled(r.resolve(ref), TIMEOUT);
    if (!outcome.ok) throw outcome.error;
    expectValue(outcome.value, value);
    expect(replica.counter.requests).toBe(0);
  });

  it("with the primary blackholed, reads the (slow) replica within the deadline", async () => {
    const r = await open();
    await primary.fault({ type: "timeout", attributes: { timeout: 0 } });
    // Slow, yet well inside the replica's half of the deadline even when the primary's half ends
    // late on a busy machine (450 ms left 50 ms to spare; trust issue #20 point 9). Without a
    // shared deadline the primary would use all of it and the replica would get no time at all.
    await replica.fault({ type: "latency", attributes: { latency: 250 } });
    const outcome = await settled(r.resolve(ref), TIMEOUT);
    if (!outcome.ok) throw outcome.error;
    expectValue(outcome.value, value);
    expect(
      outcome.ms,
      "primary's timeout + replica's latency: the deadline was not shared",
    ).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
    expect(replica.counter.requests).toBe(1);
  });

  it("with every backend blackholed, fails with AllBackendsFailedError by the deadline", async () => {
    const r = await open();
    // Requests swallowed on the way in: moto closes its connections after each answer, which
    // would end a downstream blackhole early.
    await primary.fault({ type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
    await replica.fault({ type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
    const outcome = await settled(r.resolve(ref), TIMEOUT);
    const error = failure(outcome);
    expect(error).toBeInstanceOf(AllBackendsFailedError);
    expect((error as AllBackendsFailedError).failures.map((f) => f.backend)).toEqual(["vault", "aws"]);
    expect(outcome.ms).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  });

  it("once the primary is marked down, reads go straight to the replica", async () => {
    const r = await open({ threshold: 2, cooldownMs: 60_000 });
    await primary.fault({ type: "timeout", attributes: { timeout: 0 } });
    const times: number[] = [];
    // The first reads wait out (their share of) the primary until two of its reads have failed.
    while (times.length < 12) {
      const outcome = await settled(r.resolve(ref), TIMEOUT);
      if (!outcome.ok) throw outcome.error;
      expectValue(outcome.value, value);
      times.push(outcome.ms);
    }
    // Straight to the replica: well under the primary's half of the deadline, which a read that
    // still asked the primary would wait out (not a fixed 200 ms: a busy machine's moto is slower).
    for (const ms of times.slice(-3))
      expect(ms, `read times: ${times.map(Math.round).join(", ")}`).toBeLessThan(TIMEOUT / 2);
    expect(primary.counter.requests).toBeLessThanOrEqual(2);
  });

  it("never falls back on not-found or denied: only an unavailable primary sends reads to a replica", async () => {
    const r = await open();
    const missing = { namespace: "rel.fallback.team", key: "ONLY_ON_REPLICA" };
    await seed("moto", scope, [[missing, "replica-only"]]);
    const outcome = await settled(r.resolve(missing), TIMEOUT);
    expect(failure(outcome)).not.toBeInstanceOf(BackendUnavailableError);
    expect(replica.counter.requests).toBe(0);
  });
});

describe("inheritance under latency", () => {
  let link: FaultyLink;
  let router: Router | undefined;
  afterAll(async () => {
    if (router) count("backendCalls", router.stats().backendCalls);
    await router?.close();
    await link?.close();
  });

  it("settles by the deadline even when every level of a deep namespace is slow", async () => {
    const root = { namespace: "", key: `INHERITED_${runId()}` };
    await seed("openbao", scope, [[root, "from-the-root"]]);
    link = await faultyLink("openbao");
    router = createRouter({
      backends: { vault: makeBackend("openbao", { address: link.address, scope }) },
      rules: [{ match: "", backend: "vault" }],
      timeoutMs: TIMEOUT,
      retry: { attempts: 1 },
      cache: { ttlMs: 0, negativeTtlMs: 0 },
      breaker: { threshold: 0 },
    });
    await link.fault({ type: "latency", attributes: { latency: 300 } });
    // Six levels (a.b.c.d.e, ..., a, root), each a 300 ms not-found before the root answers.
    const outcome = await settled(router.resolve({ namespace: "a.b.c.d.e", key: root.key }), TIMEOUT);
    if (outcome.ok) expectValue(outcome.value, "from-the-root");
    else expect(failure(outcome)).toBeInstanceOf(BackendUnavailableError);
    expect(
      outcome.ms,
      "each level got the whole deadline: the climb as a whole had none",
    ).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  });
});
