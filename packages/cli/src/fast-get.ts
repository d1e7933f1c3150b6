/**
 * The start-up hot path: `keyway get KEY [-n NS] [-t TENANT] [-s SUBKEY]`, the call an executor
 * makes once per task, parsed without commander. Loading commander (CommonJS, several files) costs
 * about a third of a bare `node -e 0` (`npm run bench -- --only=cli-startup`), more than the rest
 * of `get`. Anything this parser is not sure of (another command, an unknown or repeated option,
 * `--help`, a missing value) returns undefined and the full program handles it, so errors and help
 * stay commander's. The command itself is the same `get` either way; a test runs both paths.
 */
import { get } from "./commands/read.js";
import type { GlobalOptions } from "./context.js";
import { type CliIO, EXIT, reportFailure } from "./io.js";

export interface FastGet {
  readonly global: GlobalOptions;
  readonly key: string;
  readonly options: { namespace: string; tenant?: string; subkey?: string };
}

const GLOBAL: Record<string, "config"> = { "-c": "config", "--config": "config" };
const GET: Record<string, "namespace" | "tenant" | "subkey"> = {
  "-n": "namespace",
  "--namespace": "namespace",
  "-t": "tenant",
  "--tenant": "tenant",
  "-s": "subkey",
  "--subkey": "subkey",
};

/** The arguments of a plain `get`, or undefined to let the full program parse `argv`. */
export function parseFastGet(argv: readonly string[]): FastGet | undefined {
  const global: { config?: string } = {};
  const values: { namespace?: string; tenant?: string; subkey?: string } = {};
  let key: string | undefined;
  let command = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const name = command ? GET[flag] : GLOBAL[flag];
    if (name !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      const target: Record<string, string | undefined> = command ? values : global;
      if (value === undefined || target[name] !== undefined) return undefined;
      if (eq < 0 && value.startsWith("-") && value !== "-") return undefined; // commander's call
      target[name] = value;
    } else if (arg.startsWith("-")) {
      return undefined; // --help, --version, --json, `--`, an unknown option: commander decides
    } else if (!command) {
      if (arg !== "get") return undefined;
      command = true;
    } else if (key === undefined) {
      key = arg;
    } else {
      return undefined; // an extra argument: commander's error
    }
  }
  if (!command || key === undefined) return undefined;
  return { global, key, options: { ...values, namespace: values.namespace ?? "" } };
}

/** Runs a parsed `get` as the full program would, with the same messages and exit codes. */
export async function runFastGet(parsed: FastGet, io: CliIO): Promise<number> {
  try {
    await get(io, parsed.global, parsed.key, parsed.options);
    return EXIT.ok;
  } catch (error) {
    return reportFailure(error, io);
  }
}
