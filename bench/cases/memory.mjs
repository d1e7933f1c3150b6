// Case 7: memory per cached secret. 100,000 cached 32-character secrets in the resolver's cache,
// against a raw lru-cache holding the same strings; the redactor's memory for the same secrets on
// its own line. Each structure is filled in its own child process run with --expose-gc (see
// memory-child.mjs), so one measurement's garbage never lands in another's.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";

const NAME = "memory";
const CHILD = fileURLToPath(new URL("./memory-child.mjs", import.meta.url));
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function measure(mode, count) {
  const out = execFileSync(process.execPath, ["--expose-gc", CHILD, mode, String(count)], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out);
}

export async function run(results, { quick }) {
  const count = quick ? 20_000 : 100_000;
  const runs = quick ? 1 : 3;
  const perSecret = { lru: [], keyway: [] };
  for (let r = 0; r < runs; r++)
    for (const mode of Object.keys(perSecret)) perSecret[mode].push(measure(mode, count).marginal);
  const lru = median(perSecret.lru);
  const keyway = median(perSecret.keyway);
  const redactor = measure("redactor", count).marginal;
  // Realistic secrets cost far more than 32-character ones (a PEM key has ~30 lines, each masked
  // with its encodings): the figure to size a redactor by. The mix is seeded, so one run suffices.
  const mixCount = 2000; // quick too: fewer makes the share of each kind, so the figure, vary
  const mix = measure("redactor-mix", mixCount).marginal;
  results.row(
    NAME,
    `resolver cache, ${fmt(count)} secrets of 32 characters`,
    `${fmt(keyway / lru)}× lru-cache`,
    `${fmt(keyway)} bytes per secret`,
  );
  results.row(NAME, "raw lru-cache, same secrets and TTL", "1×", `${fmt(lru)} bytes per secret`);
  results.row(
    NAME,
    "redactor, same secrets (all their forms)",
    `${fmt(redactor / lru)}× lru-cache`,
    `${fmt(redactor)} bytes per secret`,
  );
  results.row(
    NAME,
    `redactor, ${fmt(mixCount)} realistic secrets (passwords, JWTs, PEM keys, JSON credentials)`,
    `${fmt(mix)} bytes per secret`,
    "bench/lib/credentials.mjs",
  );
  results.goal(NAME, "resolver cache ≤ 2× raw lru-cache per secret", keyway / lru, "<=", 2);
  results.raw[NAME] = { count, bytesPerSecret: { ...perSecret, redactor, redactorMix: mix }, mixCount };
}
