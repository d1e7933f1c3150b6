// Case 5: import cost. How long a program takes to import Keyway's core and env backend, against
// importing the AWS SDK's Secrets Manager client alone (what a Lambda or a CLI pays on every cold
// start). Each import runs in a new node process whose entry module (import-child.mjs) times the
// imports themselves, so node's own start-up is in neither number.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";

const NAME = "import cost";
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CHILD = fileURLToPath(new URL("./import-child.mjs", import.meta.url));

const SETS = {
  keyway: ["@keyway/core", "@keyway/backend-env"],
  "@aws-sdk/client-secrets-manager": ["@aws-sdk/client-secrets-manager"],
};

/** Milliseconds a fresh node process takes to import `specifiers`, in order. */
function importMs(specifiers) {
  const out = execFileSync(process.execPath, [CHILD, ...specifiers], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  return Number(out);
}

export async function run(results, { quick }) {
  const runs = quick ? 5 : 9;
  const times = Object.fromEntries(Object.keys(SETS).map((name) => [name, []]));
  // One warm-up of each, so both read their files from the page cache, then alternate.
  for (const specifiers of Object.values(SETS)) importMs(specifiers);
  for (let r = 0; r < runs; r++)
    for (const [name, specifiers] of Object.entries(SETS)) times[name].push(importMs(specifiers));
  const keyway = median(times.keyway);
  const sdk = median(times["@aws-sdk/client-secrets-manager"]);
  results.row(
    NAME,
    "import @keyway/core + @keyway/backend-env",
    `${fmt(keyway / sdk)}× the SDK`,
    `${fmt(keyway)} ms this run, median of ${runs}`,
  );
  results.row(NAME, "import @aws-sdk/client-secrets-manager", "1×", `${fmt(sdk)} ms this run`);
  results.goal(NAME, "keyway import ≤ 0.3× the Secrets Manager client's", keyway / sdk, "<=", 0.3);
  results.raw[NAME] = times;
}
