// Case: live output through `keyway run` (trust issue #20 point 1). The built CLI runs a child
// under an executor's secret set (100 tokens, a JSON credential and a PEM key as SECRET_
// variables, all registered with their forms, one of them in the child's environment). The bench
// tells the child, through its stdin, what to print (seeded log lines, some with the secret or
// its base64, and prompts without a newline), then waits until that text comes out of Keyway's
// stdout before the next one: the child pauses after every write, as a tailed task does. Latency
// is from the bench's line to the child until the text comes out: a round trip, so an upper bound
// of the child-write-to-output latency, with no clock shared between processes. The same child
// run directly (no Keyway) is measured the same way, alternating, as the floor.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { int, pick, prng, secrets, text } from "../lib/seed.mjs";

const NAME = "run latency";
const BIN = fileURLToPath(new URL("../../packages/cli/bin/keyway.cjs", import.meta.url));
/** A line that has not come out after this long counts as stalled: the case stops and misses. */
const STALL_MS = 5_000;
const GOAL_P99_MS = 50;

// The child prints each JSON string it reads on stdin, exactly, and waits for the next.
const CHILD = `const rl = require("node:readline").createInterface({ input: process.stdin });
rl.on("line", (line) => process.stdout.write(JSON.parse(line).replace("$TOKEN", process.env.TOKEN)));`;

const WORDS = "request started finished connecting retry job task flow worker upstream status ok".split(" ");

/** What the child is told to print, round by round: what comes out ends with `marker`. */
function outputs(random, rounds, token) {
  return Array.from({ length: rounds }, (_, i) => {
    const words = Array.from({ length: int(random, 3, 10) }, () => pick(random, WORDS)).join(" ");
    const marker = `seq=${i}`;
    const kind = i % 5;
    if (kind === 3) return { say: `Password for job ${i}: `, marker: `job ${i}: `, secret: false };
    const secret =
      kind === 1 ? " token=$TOKEN" : kind === 2 ? ` auth=${Buffer.from(token).toString("base64")}` : "";
    const id = text(random, 12, "0123456789abcdef");
    return {
      say: `INFO [worker-${i % 8}] ${words} id=${id}${secret} ${marker}\n`,
      marker: `${marker}\n`,
      secret: secret !== "",
    };
  });
}

/** A running process whose stdout is read as text; `until(marker)` resolves once it has appeared. */
function running(command, args, options) {
  const child = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  let waiter;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk) => {
    out += chunk;
    if (waiter && out.includes(waiter.marker)) {
      const w = waiter;
      waiter = undefined;
      w.resolve(performance.now());
    }
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  return {
    child,
    exited,
    output: () => out,
    /** Sends `say` to the child; resolves with the milliseconds until `marker` was in the output. */
    roundTrip(say, marker) {
      return new Promise((resolve) => {
        const t0 = performance.now();
        const timer = setTimeout(() => {
          waiter = undefined;
          resolve(Number.POSITIVE_INFINITY);
        }, STALL_MS);
        waiter = {
          marker,
          resolve: (t1) => {
            clearTimeout(timer);
            resolve(t1 - t0);
          },
        };
        child.stdin.write(`${JSON.stringify(say)}\n`);
      });
    },
  };
}

/** The value at quantile `q` (nearest rank). */
function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

export async function run(results, { quick }) {
  if (!existsSync(path.join(path.dirname(BIN), "../dist/main.js")))
    throw new Error(`${NAME}: the CLI is not built (npm run build)`);
  const random = prng();
  const tokens = secrets(random, 100);
  const token = tokens[0];
  const env = { ...process.env, NODE_OPTIONS: "" };
  delete env.KEYWAY_CONFIG;
  tokens.forEach((value, i) => {
    env[`SECRET_TOKEN_${i}`] = Buffer.from(value).toString("base64");
  });
  const credential = JSON.stringify({
    type: "service_account",
    client_email: "etl@project.iam.gserviceaccount.com",
    private_key_id: text(random, 40, "0123456789abcdef"),
  });
  const pem = `-----BEGIN PRIVATE KEY-----\n${Array.from({ length: 8 }, () => text(random, 64)).join("\n")}\n-----END PRIVATE KEY-----\n`;
  env.SECRET_GCP_CREDENTIAL = Buffer.from(credential).toString("base64");
  env.SECRET_TLS_KEY = Buffer.from(pem).toString("base64");
  const rounds = quick ? 60 : 300;
  const plan = outputs(random, rounds, token);
  const cwd = mkdtempSync(path.join(os.tmpdir(), "keyway-bench-run-"));
  const direct = running(process.execPath, ["-e", CHILD], { cwd, env: { ...env, TOKEN: token } });
  const keyway = running(
    process.execPath,
    [BIN, "run", "-n", "bench", "--env", "TOKEN=TOKEN_0", "--", process.execPath, "-e", CHILD],
    { cwd, env },
  );
  const times = { keyway: [], direct: [] };
  let warm = Number.POSITIVE_INFINITY;
  try {
    // Warm-up: both processes started and their first write through (a stall here is a miss too).
    warm = await keyway.roundTrip("warm\n", "warm\n");
    await direct.roundTrip("warm\n", "warm\n");
    if (!Number.isFinite(warm)) times.keyway.push(warm);
    for (let r = 0; r < rounds && Number.isFinite(warm); r++) {
      const { say, marker } = plan[r];
      const order = r % 2 === 0 ? ["keyway", "direct"] : ["direct", "keyway"];
      for (const side of order)
        times[side].push(await (side === "keyway" ? keyway : direct).roundTrip(say, marker));
      if (!Number.isFinite(times.keyway.at(-1))) break; // stalled: the rest would stall too
    }
  } finally {
    keyway.child.stdin.end();
    direct.child.stdin.end();
    await Promise.all([keyway.exited, direct.exited]);
    rmSync(cwd, { recursive: true, force: true });
  }
  // A fast leak is no result: the secret must never come out, and every planted one be masked.
  const out = keyway.output();
  const leaked = out.includes(token) || out.includes(Buffer.from(token).toString("base64"));
  const planted = plan
    .slice(0, Number.isFinite(warm) ? times.keyway.length : 0)
    .filter((p) => p.secret).length;
  const masked = out.split("******").length - 1;

  const p50 = median(times.keyway);
  const p99 = quantile(times.keyway, 0.99);
  const directP99 = quantile(times.direct, 0.99);
  results.row(
    NAME,
    "keyway run: child's line to Keyway's stdout (round trip), p99",
    `${fmt(p99)} ms`,
    `p50 ${fmt(p50)} ms, max ${fmt(Math.max(...times.keyway))} ms, ${times.keyway.length} lines, 102 secrets registered`,
  );
  results.row(
    NAME,
    "the same child without Keyway, p99",
    `${fmt(directP99)} ms`,
    `p50 ${fmt(median(times.direct))} ms; keyway p99 / direct p99 ${fmt(p99 / directP99)}×`,
  );
  results.row(
    NAME,
    "secrets masked / planted, leaked",
    `${masked} / ${planted}, ${leaked ? "LEAKED" : "none"}`,
  );
  results.goal(
    NAME,
    `keyway run: write to output p99 ≤ ${GOAL_P99_MS} ms (absolute)`,
    p99,
    "<=",
    GOAL_P99_MS,
    " ms",
  );
  results.goal(
    NAME,
    "every planted secret masked, none leaked",
    leaked || masked !== planted ? 0 : 1,
    "==",
    1,
    "",
  );
  results.raw[NAME] = times;
}
