// Case: CLI start-up (issues 13, 20). `keyway get` on the env backend with no config file (a SECRET_
// variable set, in an empty temporary directory), run as a shell runs it, against a bare
// `node -e 0`: node's own start-up is the unit, so the ratio is what the CLI adds on top of it.
// The two alternate, one of each per round, and each side's median is taken.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";

const NAME = "cli start-up";
const BIN = fileURLToPath(new URL("../../packages/cli/bin/keyway.cjs", import.meta.url));
const VALUE = "bench-value";

/** Milliseconds one run of node with `args` takes, from spawn to exit; checks what it printed. */
function runMs(args, options, expected) {
  const t = performance.now();
  const out = execFileSync(process.execPath, args, options);
  const ms = performance.now() - t;
  if (out !== expected) throw new Error(`${NAME}: \`node ${args.join(" ")}\` printed the wrong output`);
  return ms;
}

export async function run(results, { quick }) {
  if (!existsSync(path.join(path.dirname(BIN), "../dist/main.js")))
    throw new Error(`${NAME}: the CLI is not built (npm run build)`);
  const rounds = quick ? 10 : 40;
  const cwd = mkdtempSync(path.join(os.tmpdir(), "keyway-bench-cli-"));
  try {
    const { KEYWAY_CONFIG: _config, ...env } = process.env;
    const options = {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...env, NODE_OPTIONS: "", SECRET_BENCH: Buffer.from(VALUE).toString("base64") },
    };
    const sides = {
      node: () => runMs(["-e", "0"], options, ""),
      get: () => runMs([BIN, "get", "BENCH"], options, VALUE),
    };
    const times = { node: [], get: [] };
    // Warm-ups read every file into the page cache; then one of each per round, order alternating.
    for (let i = 0; i < 3; i++) for (const side of Object.values(sides)) side();
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? ["node", "get"] : ["get", "node"];
      for (const name of order) times[name].push(sides[name]());
    }
    const node = median(times.node);
    const get = median(times.get);
    results.row(
      NAME,
      "keyway get KEY (env backend, no config file)",
      `${fmt(get / node)}× node -e 0`,
      `${fmt(get)} ms this run, median of ${rounds}`,
    );
    results.row(NAME, "node -e 0", "1×", `${fmt(node)} ms this run`);
    results.goal(NAME, "keyway get with no config ≤ 1.3× node -e 0", get / node, "<=", 1.3);
    results.raw[NAME] = times;
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}
