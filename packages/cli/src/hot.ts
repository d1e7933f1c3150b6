/**
 * The start-up hot path: a plain `keyway get KEY [-n NS] [-t T] [-s S]` with no config file, the
 * call an executor makes once per task. It is bundled with everything it uses (@keyway/core,
 * @keyway/backend-env, lru-cache) into one CommonJS file, dist/hot.cjs, which bin/keyway.cjs
 * requires first. Why: Node's ES module loader reads each module file asynchronously and costs
 * about a third of a bare `node -e 0` before any of our code runs; one CommonJS file is read and
 * compiled synchronously (`npm run bench -- --only=cli-startup`: 1.5× node before, see README).
 *
 * The bundle holds its own copy of core's classes, so it may only run when nothing else is
 * loaded: no config file (which could name backends from other packages, built on the shared
 * core). Anything else returns undefined and the ES module entry (main.ts) runs instead. The
 * command is the same `get` of commands/read.ts either way.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { parseFastGet, runFastGet } from "./fast-get.js";
import { processIO } from "./io.js";

/** Runs `argv` when it is a plain get with no config file, resolving to its exit code; else undefined. */
export function runHot(argv: readonly string[]): Promise<number> | undefined {
  const parsed = parseFastGet(argv);
  if (parsed === undefined || parsed.global.config !== undefined) return undefined;
  if (process.env.KEYWAY_CONFIG !== undefined || existsSync(path.resolve("keyway.yaml"))) return undefined;
  return runFastGet(parsed, processIO(process.env));
}
