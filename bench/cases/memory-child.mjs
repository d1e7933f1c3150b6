// Child of the memory case (run with --expose-gc): fills one structure with the same 100,000
// seeded 32-character secrets and prints the heap it added, in bytes, as JSON. One structure per
// process, so nothing else's garbage or caches land in the delta.
import { createRedactor, createResolver } from "@keyway/core";
import { LRUCache } from "lru-cache";
import { countingBackend, fresh } from "../lib/backends.mjs";
import { credentialMix } from "../lib/credentials.mjs";
import { prng, text } from "../lib/seed.mjs";

const [mode, countArg] = process.argv.slice(2);
const count = Number(countArg);
const NS = "company.team";

/** Heap in use after full collections, once the event loop has run (some garbage waits for it). */
async function heap() {
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    globalThis.gc();
  }
  // Typed arrays' storage (lru-cache's links) is outside the JS heap: counted too.
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

/** A redactor that keeps nothing: the resolver's cache is measured without the redactor's share. */
const inertRedactor = {
  mask: "******",
  size: 0,
  register() {},
  redact: (t) => t,
  redactDeep: (v) => v,
  redactError: (e) => e,
  stream() {
    throw new Error("not used");
  },
};

// The secrets exist before the baseline, and each cache gets its own copy of each, as it would
// from a response: the copies are part of what a cached secret costs, on both sides.
// `redactor-mix` holds the realistic mix of bench/lib/credentials.mjs instead (passwords, JWTs,
// PEM keys, JSON credentials).
const random = prng();
const values =
  mode === "redactor-mix"
    ? credentialMix(random, count)
    : Array.from({ length: count }, () => text(random, 32));
const keys = values.map((_, i) => `KEY_${i}`);
const stored = new Map(values.map((value, i) => [`${NS}/${keys[i]}`, value]));

// Each structure is filled in two halves; the heap is read before, between and after. The second
// half's growth is the marginal cost per secret, free of the baseline's noise and of fixed costs.
const half = Math.floor(count / 2);
let fill;
let check = () => {};
if (mode === "lru") {
  // What a user would write: the composite key string, the value string, the same TTL.
  const lru = new LRUCache({ max: count, ttl: 300_000 });
  fill = async (from, to) => {
    for (let i = from; i < to; i++) lru.set(`${NS}/${keys[i]}`, fresh(values[i]));
  };
  check = () => lru.size === count;
} else if (mode === "keyway") {
  const resolver = createResolver({
    backend: countingBackend(stored, { copy: true }),
    cache: { maxEntries: count },
    redactor: inertRedactor,
  });
  fill = async (from, to) => {
    for (let i = from; i < to; i += 1000) {
      const batch = [];
      for (let j = i; j < Math.min(to, i + 1000); j++)
        batch.push(resolver.resolve({ namespace: NS, key: keys[j] }));
      await Promise.all(batch);
    }
  };
  check = () => resolver.stats().size === count;
} else if (mode === "redactor" || mode === "redactor-mix") {
  // The mix's pretty-printed JSON has `{` and `}` lines, each a warning (not masked, too short).
  const redactor = createRedactor({ maxValues: count, onWarning: () => {} });
  fill = async (from, to) => {
    for (let i = from; i < to; i++) redactor.register(fresh(values[i]), { key: keys[i] });
    // Forms are derived on the first redaction (see the redactor's #pending): measure them in.
    redactor.redact("");
  };
  check = () => redactor.size === count;
} else throw new Error(`unknown mode ${mode}`);

await heap();
const before = await heap();
await fill(0, half);
const middle = await heap();
await fill(half, count);
const after = await heap();
if (!check()) throw new Error(`${mode}: not every secret was kept`);
process.stdout.write(
  JSON.stringify({ mode, count, total: after - before, marginal: (after - middle) / (count - half) }),
);
