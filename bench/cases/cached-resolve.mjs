// Case 1: a cached resolve through the router, against what users would otherwise write: a raw
// lru-cache fetch() hit, and AWS Lambda Powertools' SecretsProvider with its cache warm.

import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { createEnvBackend } from "@keyway/backend-env";
import { createMemoryBackend, createRouter } from "@keyway/core";
import { LRUCache } from "lru-cache";
import { compare } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "cached resolve";
/** The caller's namespace, three levels deep. */
const NS = "company.team.etl";
/** Distinct keys cycled through, so one hot key's branch history does not flatter anyone. */
const KEYS = 64;
/** Resolves per timed call: one resolve is far shorter than the timer's resolution. */
const BATCH = 2000;

export async function run(results, { quick }) {
  const random = prng();
  const values = secrets(random, KEYS);
  const keys = values.map((_, i) => `API_TOKEN_${i}`);

  // The caller lives in company.team.etl; its own keys are there, the inherited ones two levels up.
  const initial = {};
  keys.forEach((key, i) => {
    initial[`${NS}/${key}`] = values[i];
    initial[`company/INHERITED_${key}`] = values[i];
  });
  const router = createRouter({
    backends: { env: createEnvBackend({ env: {} }), team: createMemoryBackend({ initial }) },
    rules: [
      { match: "", backend: "env" },
      { match: "company", backend: "team" },
    ],
  });
  const inheritedKeys = keys.map((key) => `INHERITED_${key}`);
  const own = keys.map((key) => ({ namespace: NS, key }));
  const inherited = inheritedKeys.map((key) => ({ namespace: NS, key }));

  const lru = new LRUCache({ max: 1000, ttl: 300_000, fetchMethod: async (key) => initial[key] });
  const lruKeys = keys.map((key) => `${NS}/${key}`);

  // Powertools with a real SDK client whose send() is stubbed: no network, and the provider
  // accepts it as an SDK v3 client (it checks send, config and middlewareStack).
  const client = new SecretsManagerClient({
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
  });
  let sends = 0;
  client.send = async (command) => {
    sends++;
    return { SecretString: initial[command.input.SecretId] };
  };
  const powertools = new SecretsProvider({ awsSdkV3Client: client });
  const ptOptions = { maxAge: 300 }; // seconds; Powertools' default is 5

  // Warm every cache, and check each side returns the value (a fast wrong answer is no answer).
  for (let i = 0; i < KEYS; i++) {
    const expected = values[i];
    const got = [
      (await router.resolve(own[i])).reveal(),
      (await router.resolve(inherited[i])).reveal(),
      await lru.fetch(lruKeys[i]),
      await powertools.get(lruKeys[i], ptOptions),
    ];
    if (got.some((v) => v !== expected)) throw new Error(`${NAME}: a warm-up read returned a wrong value`);
  }
  const backendCallsBefore = router.stats().backendCalls;
  const sendsBefore = sends;

  // Two ways to call, each measured on both sides. "Ready": the ref objects (Keyway) and key
  // strings (lru-cache, Powertools) are built once beforehand, so only the lookup is timed; this is
  // the goal's comparison. "Per call": each call builds them from the namespace and key strings,
  // as most callers do: a ref object for Keyway, a `${namespace}/${key}` string for the others.
  const { ns, ratio } = await compare(
    {
      "keyway router, own namespace": async () => {
        for (let i = 0; i < BATCH; i++) await router.resolve(own[i & (KEYS - 1)]);
      },
      "keyway router, inherited from 2 levels up": async () => {
        for (let i = 0; i < BATCH; i++) await router.resolve(inherited[i & (KEYS - 1)]);
      },
      "lru-cache fetch() hit": async () => {
        for (let i = 0; i < BATCH; i++) await lru.fetch(lruKeys[i & (KEYS - 1)]);
      },
      "powertools SecretsProvider.get (warm)": async () => {
        for (let i = 0; i < BATCH; i++) await powertools.get(lruKeys[i & (KEYS - 1)], ptOptions);
      },
      "keyway router, own namespace, ref built per call": async () => {
        for (let i = 0; i < BATCH; i++) await router.resolve({ namespace: NS, key: keys[i & (KEYS - 1)] });
      },
      "lru-cache fetch() hit, key built per call": async () => {
        for (let i = 0; i < BATCH; i++) await lru.fetch(`${NS}/${keys[i & (KEYS - 1)]}`);
      },
    },
    { batch: BATCH, rounds: quick ? 5 : 9, time: quick ? 60 : 100, iterations: 8 },
  );
  // Negative entries of the inherited keys live 10 s; a long run may refill them once. Anything
  // beyond that would mean the "cached" path reached a backend.
  const extraCalls = router.stats().backendCalls - backendCallsBefore;
  if (extraCalls > 2 * KEYS || sends !== sendsBefore)
    throw new Error(
      `${NAME}: the timed loop reached a backend (${extraCalls} calls, ${sends - sendsBefore} sends)`,
    );

  const LRU = "lru-cache fetch() hit";
  const OWN = "keyway router, own namespace";
  for (const name of Object.keys(ns))
    results.row(NAME, name, `${fmt(ratio(name, LRU))}× lru-cache`, `${fmt(ns[name])} ns/op this run`);
  const perCall = ratio(
    "keyway router, own namespace, ref built per call",
    "lru-cache fetch() hit, key built per call",
  );
  results.row(NAME, "keyway / lru-cache, both building their key per call", `${fmt(perCall)}×`);
  results.goal(NAME, "own namespace ≤ 1.5× lru-cache fetch() hit", ratio(OWN, LRU), "<=", 1.5);
  results.goal(
    NAME,
    "own namespace faster than Powertools (warm)",
    ratio(OWN, "powertools SecretsProvider.get (warm)"),
    "<",
    1,
  );
  results.raw[NAME] = { nsPerOp: ns, backendCallsDuringTiming: extraCalls };
  await router.close();
}
