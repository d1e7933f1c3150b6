// `npm run bench [-- --check] [-- --quick] [-- --only=case,case] [-- --duration=seconds]`
// Runs every case in order, prints what each measured and each goal with its ratio, and writes
// bench/results.json (a quick or partial run: a file in the temporary directory). Every figure is a ratio of things measured side by side in this run (shared
// machines are noisy; absolute times mean little). With --check, exits 1 when a goal is missed
// or a case that has goals cannot run. The test suite never asserts on time: only this does.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Results } from "./lib/results.mjs";
import { SEED } from "./lib/seed.mjs";
import { goalsTable, measurementsTable } from "./lib/table.mjs";

// The AWS SDK warns once per process that Node 20 support ends in 2027: true, and noise in a
// printout. This is the SDK's own switch; children (import cost, memory) inherit it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const CASES = {
  "cached-resolve": () => import("./cases/cached-resolve.mjs"),
  "cold-burst": () => import("./cases/cold-burst.mjs"),
  redaction: () => import("./cases/redaction.mjs"),
  "import-cost": () => import("./cases/import-cost.mjs"),
  "cli-startup": () => import("./cases/cli-startup.mjs"),
  "run-latency": () => import("./cases/run-latency.mjs"),
  fleet: () => import("./cases/fleet.mjs"),
  memory: () => import("./cases/memory.mjs"),
  watch: () => import("./cases/watch.mjs"),
  "render-growth": () => import("./cases/render-growth.mjs"),
  // keyway serve's agent vs OpenBao and a bare node:http server (needs OpenBao and the built @keyway/server).
  serve: () => import("./cases/serve.mjs"),
  // Keyway's own store: a throwaway PostgreSQL (Debian's package) and the embedded engine.
  store: () => import("./cases/store.mjs"),
  // Last: it needs the built AWS backend and moto (installed here if it is not yet, as `npm test`
  // does), and skips loudly without them.
  prefetch: () => import("./cases/prefetch.mjs"),
};

const args = process.argv.slice(2);
const check = args.includes("--check");
const quick = args.includes("--quick");
/** `--duration=N`: seconds per load run, for the cases that run one (serve). */
const durationArg = args.find((a) => a.startsWith("--duration="));
const duration = durationArg === undefined ? undefined : Number(durationArg.slice(11));
const only = args
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");
for (const name of only ?? []) if (!(name in CASES)) throw new Error(`unknown case '${name}'`);

const results = new Results();
const started = performance.now();
for (const [name, load] of Object.entries(CASES)) {
  if (only && !only.includes(name)) continue;
  const t0 = performance.now();
  process.stderr.write(`bench: ${name}…`);
  const { run } = await load();
  await run(results, { check, quick, duration });
  process.stderr.write(` ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}

console.log(`\n${measurementsTable(results)}\n\n${goalsTable(results)}\n`);
for (const { case: name, reason } of results.skipped) console.log(`SKIPPED ${name}: ${reason}`);

// A full run is the record (bench/results.json); a partial or quick one goes to the temporary
// directory, so it never overwrites the record (nor leaves a file for the linter in bench/).
const partial = only !== undefined || quick;
const out = partial
  ? path.join(os.tmpdir(), "keyway-bench-results.json")
  : fileURLToPath(new URL("./results.json", import.meta.url));
writeFileSync(
  out,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      command: `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`,
      seed: SEED,
      node: process.version,
      cpus: os.cpus().length,
      cpu: os.cpus()[0]?.model,
      seconds: Math.round((performance.now() - started) / 1000),
      rows: results.rows,
      goals: results.goals,
      skipped: results.skipped,
      raw: results.raw,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out}`);

if (check) {
  const failed = results.failed;
  // A skipped case with goals is a failed check: a goal nobody measured is not met.
  if (failed.length > 0 || results.skipped.length > 0) {
    console.error(
      `bench --check: ${failed.length} goal(s) missed${results.skipped.length ? `, ${results.skipped.length} case(s) skipped` : ""}`,
    );
    process.exitCode = 1;
  } else console.log("bench --check: every goal met");
}
