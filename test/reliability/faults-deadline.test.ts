// Every resolve settles by its deadline, with the stored value or a typed unavailable error, under
// latency, blackholes, resets, refused connections, truncated and throttled answers, between Keyway
// and each real server (moto, OpenBao, the GCP emulator), through Toxiproxy.
import { BackendUnavailableError, type SecretRef } from "@keyway/core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { BACKENDS, runId, seed } from "./support/backends.js";
import { expectValue, failure, SLACK_MS, settled, watchUnhandledRejections } from "./support/checks.js";
import { type Fixture, fixture } from "./support/fixture.js";
import { reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
const { assertNoUnhandled } = watchUnhandledRejections();

const TIMEOUT = 800;
const ns = "rel.deadline";
const small: SecretRef = { namespace: ns, key: "SMALL" };
const big: SecretRef = { namespace: ns, key: "BIG" };
const smallValue = `small-${runId()}-ünïcödé`;
const bigValue = `big-${runId()}-${"x".repeat(48_000)}`;
const many = Array.from({ length: 12 }, (_, i): [SecretRef, string] => [
  { namespace: ns, key: `MANY_${i}` },
  `many-${i}-${runId()}`,
]);

describe.each(BACKENDS)("deadlines against %s", (kind) => {
  const scope = runId();
  let f: Fixture | undefined;
  const open = async (requestTimeoutMs?: number) => {
    f = await fixture(kind, scope, { timeoutMs: TIMEOUT, requestTimeoutMs });
    return f;
  };

  beforeAll(async () => {
    await seed(kind, scope, [[small, smallValue], [big, bigValue], ...many]);
  });
  afterEach(async () => {
    await f?.close();
    f = undefined;
    await assertNoUnhandled();
  });

  const expectUnavailable = (outcome: Awaited<ReturnType<typeof settled>>) => {
    const error = failure(outcome);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(outcome.ms).toBeLessThanOrEqual(TIMEOUT + SLACK_MS);
  };

  it("answers with the stored value through an idle proxy", async () => {
    const { resolver, link } = await open();
    const outcome = await settled(resolver.resolve(small), TIMEOUT);
    if (!outcome.ok) throw outcome.error;
    expectValue(outcome.value, smallValue);
    expect(link.counter.requests).toBe(1);
  });

  it("waits out latency below the deadline and returns the value", async () => {
    const { resolver, link } = await open();
    // Connected first: a gRPC connection's set-up takes several round trips, and at 250 ms each
    // it used up the 800 ms deadline on a busy machine (trust issue #20 point 9). The latency
    // under test is one request's.
    const warm = await settled(resolver.resolve(small), TIMEOUT);
    if (!warm.ok) throw warm.error;
    await link.fault({ type: "latency", attributes: { latency: 250, jitter: 50 } });
    const outcome = await settled(resolver.resolve(small), TIMEOUT);
    if (!outcome.ok) throw outcome.error;
    expectValue(outcome.value, smallValue);
    expect(outcome.ms).toBeGreaterThanOrEqual(190);
  });

  it("fails with a typed unavailable error at the deadline when latency exceeds it", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "latency", attributes: { latency: 5_000 } });
    expectUnavailable(await settled(resolver.resolve(small), TIMEOUT));
  });

  // (moto closes each connection after answering, which ends this blackhole early for it.)
  it("settles every concurrent caller by the deadline under a blackhole (requests reach the server, answers never come back)", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "timeout", attributes: { timeout: 0 } });
    const refs = [...many.map(([ref]) => ref), small, small, small];
    const outcomes = await Promise.all(refs.map((ref) => settled(resolver.resolve(ref), TIMEOUT)));
    for (const outcome of outcomes) expectUnavailable(outcome);
  });

  it("settles by the deadline when requests are blackholed on the way in (nothing reaches the server)", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
    expectUnavailable(await settled(resolver.resolve(small), TIMEOUT));
    expect(link.counter.requests).toBe(0);
  });

  it("fails fast with a typed error when the connection is reset", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "reset_peer", attributes: { timeout: 0 } });
    expectUnavailable(await settled(resolver.resolve(small), TIMEOUT));
  });

  it("fails fast with a typed error when the connection is refused", async () => {
    const { resolver, link } = await open();
    await link.disable();
    expectUnavailable(await settled(resolver.resolve(small), TIMEOUT));
  });

  it("never returns a truncated answer as a value", async () => {
    const { resolver, link } = await open();
    // The connection is closed after 200 bytes of the answer.
    await link.fault({ type: "limit_data", attributes: { bytes: 200 } });
    expectUnavailable(await settled(resolver.resolve(big), TIMEOUT));
  });

  it("reassembles an answer cut into tiny delayed slices", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "slicer", attributes: { average_size: 16, size_variation: 8, delay: 50 } });
    const outcome = await settled(resolver.resolve(small), TIMEOUT);
    if (!outcome.ok) throw outcome.error;
    expectValue(outcome.value, smallValue);
  });

  it("under a bandwidth limit: a small value arrives, a large one times out by the deadline", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "bandwidth", attributes: { rate: 8 } }); // 8 KB/s
    const first = await settled(resolver.resolve(small), TIMEOUT);
    if (!first.ok) throw first.error;
    expectValue(first.value, smallValue);
    expectUnavailable(await settled(resolver.resolve(big), TIMEOUT));
  });

  it("recovers once the fault is gone, with the stored value", async () => {
    const { resolver, link } = await open();
    await link.fault({ type: "timeout", attributes: { timeout: 0 } });
    expectUnavailable(await settled(resolver.resolve(small), TIMEOUT));
    await link.heal();
    // gRPC may need a moment (its reconnect backoff) to replace a connection that lost bytes:
    // asked again until it answers, bounded by the test's timeout rather than a fixed 3 s that a
    // busy machine can use up (trust issue #20 point 9).
    let last = await settled(resolver.resolve(small), TIMEOUT);
    while (!last.ok) {
      expect(failure(last)).toBeInstanceOf(BackendUnavailableError);
      await new Promise((r) => setTimeout(r, 100));
      last = await settled(resolver.resolve(small), TIMEOUT);
    }
    expectValue(last.value as never, smallValue);
  });
});

afterAll(async () => {
  await assertNoUnhandled();
});
