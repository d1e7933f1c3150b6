// Case 6: a fleet. 50 resolver instances, 1,000 keys each, TTL T; every instance reads each of its
// keys once per T/20, on a fake clock, for 12 T. From 2 T on (past the cold fill), count backend
// requests per T (refresh-ahead and jitter should keep it near one per key per T) and the busiest
// T/10 window against the mean (jittered expiry should keep the cold fill's herd from coming back
// every T). The defaults of the resolver are what is measured: they are what users get.
import { createRedactor, createResolver, SecretValue } from "@keyway/core";
import { READ_ONLY } from "../lib/backends.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "fleet";
const T = 60_000; // any TTL works: everything below is in fractions of T
const KEYS = 1000;
const PERIOD = T / 20; // each key is read once per period, at its own seeded phase
const SLOTS = 10; // reads are issued at PERIOD / SLOTS steps of the clock
const TICK = PERIOD / SLOTS;
const WINDOW = T / 10;
const DURATION = 12 * T;
const COUNT_FROM = 2 * T;

export async function run(results, { quick }) {
  const instances = quick ? 10 : 50;
  const random = prng();
  const values = secrets(random, KEYS);
  const clock = {
    t: 1_000_000,
    now() {
      return this.t;
    },
  };
  const start = clock.t;
  const windows = new Array(Math.ceil(DURATION / WINDOW)).fill(0);
  // One backend per instance, answering at once (an already-settled promise), counting requests
  // by the fake time they arrive at.
  const backendFor = () => ({
    name: "fleet",
    capabilities: READ_ONLY,
    get(ref) {
      windows[Math.floor((clock.now() - start) / WINDOW)]++;
      return Promise.resolve(SecretValue.fromText(values[Number(ref.key.slice(4))]));
    },
  });
  const redactor = createRedactor(); // shared, as a router shares one: every value registers once
  const resolvers = Array.from({ length: instances }, () =>
    createResolver({
      backend: backendFor(),
      cache: { ttlMs: T, clock, random: prng(random() * 2 ** 32), maxEntries: KEYS },
      redactor,
    }),
  );
  // slots[s]: the (instance, key) reads due in slot s of every period.
  const slots = Array.from({ length: SLOTS }, () => []);
  const refs = Array.from({ length: KEYS }, (_, k) => ({ namespace: "fleet", key: `KEY_${k}` }));
  for (let i = 0; i < instances; i++)
    for (let k = 0; k < KEYS; k++) slots[Math.floor(random() * SLOTS)].push(resolvers[i], refs[k]);

  let failures = 0;
  const onError = () => failures++;
  for (let step = 0; step * TICK < DURATION; step++) {
    clock.t = start + step * TICK;
    const due = slots[step % SLOTS];
    for (let j = 0; j < due.length; j += 2) due[j].resolve(due[j + 1]).catch(onError);
    // Let every load started at this instant settle before the clock moves on.
    await new Promise((resolve) => setImmediate(resolve));
  }
  if (failures > 0) throw new Error(`${NAME}: ${failures} resolves failed`);

  const counted = windows.slice(COUNT_FROM / WINDOW, DURATION / WINDOW);
  const total = counted.reduce((a, b) => a + b, 0);
  const perT = total / ((DURATION - COUNT_FROM) / T);
  const mean = total / counted.length;
  const busiest = Math.max(...counted);
  const keys = instances * KEYS;
  results.row(
    NAME,
    `${instances} instances × ${KEYS} keys, read every T/20, 12 T`,
    `${fmt(perT / keys)}× one request per key per T`,
    "from 2 T on",
  );
  results.row(NAME, "busiest T/10 window / mean window", `${fmt(busiest / mean)}×`);
  results.goal(NAME, "backend requests per T ≤ 1.4× (instances × keys)", perT / keys, "<=", 1.4);
  results.goal(NAME, "busiest T/10 window ≤ 2× the mean", busiest / mean, "<=", 2);
  results.raw[NAME] = { instances, keys: KEYS, windows, requestsPerT: perT };
  await Promise.all(resolvers.map((r) => r.close()));
}
