// Case 2: a cold burst. 1,000 concurrent resolves of 100 distinct keys nobody has read yet, against
// a backend that takes 5 ms and has no concurrency limit. Single-flight must turn them into exactly
// 100 backend calls, all in flight at once, so the burst takes about one backend call.
import { createRouter } from "@keyway/core";
import { countingBackend } from "../lib/backends.mjs";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "cold burst";
const KEYS = 100;
const RESOLVES = 1000;
const LATENCY_MS = 5;

export async function run(results, { quick }) {
  const random = prng();
  const values = new Map(secrets(random, KEYS).map((value, i) => [`company.team/KEY_${i}`, value]));
  // Each key asked 10 times, in a seeded shuffled order, all started before any settles.
  const order = Array.from({ length: RESOLVES }, (_, i) => i % KEYS);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const refs = order.map((i) => ({ namespace: "company.team", key: `KEY_${i}` }));

  const runs = quick ? 5 : 11;
  // The first bursts of a process also compile Keyway's code; "cold" here means the cache. They
  // run as warm-up, unmeasured. (A forced full collection before each burst was tried and made
  // bursts slower and noisier: the shrunken heap grows again during the burst.)
  const warmups = 20;
  const ratios = [];
  const calls = [];
  for (let r = -warmups; r < runs; r++) {
    // One backend call on its own, measured just before the burst: the unit of the ratio.
    const single = countingBackend(values, { latency: LATENCY_MS });
    const t0 = performance.now();
    await single.get({ namespace: "company.team", key: "KEY_0" });
    const oneCall = performance.now() - t0;

    const backend = countingBackend(values, { latency: LATENCY_MS });
    const router = createRouter({ backends: { b: backend }, rules: [{ match: "", backend: "b" }] });
    const t1 = performance.now();
    const resolved = await Promise.all(refs.map((ref) => router.resolve(ref)));
    const burst = performance.now() - t1;
    if (resolved.some((v, i) => v.reveal() !== values.get(`company.team/${refs[i].key}`)))
      throw new Error(`${NAME}: a resolve returned a wrong value`);
    await router.close();
    if (r < 0) continue;
    ratios.push(burst / oneCall);
    calls.push(backend.calls);
  }
  const ratio = median(ratios);
  results.row(
    NAME,
    `${RESOLVES} resolves of ${KEYS} keys, wall time / one ${LATENCY_MS} ms backend call`,
    `${fmt(ratio)}×`,
    `median of ${runs}`,
  );
  results.row(NAME, "backend calls per burst", calls.join(", "));
  results.goal(
    NAME,
    `exactly ${KEYS} backend calls (every burst)`,
    Math.max(...calls.map((c) => Math.abs(c - KEYS))),
    "==",
    0,
    " off",
  );
  results.goal(NAME, "wall time ≤ 3× one backend call", ratio, "<=", 3);
  results.raw[NAME] = { ratios, calls };
}
