/**
 * `keyway run`'s child environment: the parent's, minus what Keyway holds (held.ts: `SECRET_*`,
 * backend credentials, the config's `${VAR}`s) unless `--keep-env` passes it on purpose, plus the
 * `--env` secrets. With `--clean-env`, only the basics below, `--keep-env` and the `--env`
 * secrets. Everything that reaches `spawn` is checked first, because Node's errors for a bad
 * environment or argument quote the value (a NUL byte in a secret used to print it).
 */
import { InvalidSecretValueError } from "@keyway/core";
import type { Held } from "../held.js";
import { CliError, type CliIO, EXIT } from "../io.js";
import { matcher, NAME_PATTERN, VARIABLE_NAME } from "../patterns.js";

/** What `--clean-env` passes besides the `--env` secrets and `--keep-env`. */
export const BASIC_VARIABLES = ["PATH", "HOME", "LANG", "LC_*", "TZ", "TMPDIR", "USER", "SHELL", "TERM"];

/** One `--env NAME=KEY` or `--env NAME=KEY.subkey` (keys hold no dot, so the first one splits). */
export interface EnvPair {
  readonly name: string;
  readonly key: string;
  readonly subkey?: string | undefined;
}

/** The `--env`, `--keep-env` and `--clean-env` flags, checked. */
export interface ChildEnvFlags {
  readonly pairs: readonly EnvPair[];
  readonly keep: (name: string) => boolean;
  readonly clean: boolean;
}

/** Reads the flags; a bad one is a usage error that does not quote it (it may hold anything). */
export function childEnvFlags(options: {
  env: string[];
  keepEnv?: string[];
  cleanEnv?: boolean;
}): ChildEnvFlags {
  const pairs = options.env.map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--env takes NAME=KEY, e.g. --env DB_PASSWORD=DB_PASSWORD.`);
    const name = pair.slice(0, eq);
    if (!VARIABLE_NAME.test(name))
      throw new CliError(
        `--env NAME must be letters, digits and _, not starting with a digit (e.g. DB_PASSWORD).`,
      );
    const [key, ...rest] = pair.slice(eq + 1).split(".");
    const subkey = rest.length ? rest.join(".") : undefined;
    if (subkey === "")
      throw new CliError(`--env takes NAME=KEY or NAME=KEY.subkey, e.g. --env DB_USER=DB.user.`);
    return { name, key: key as string, subkey };
  });
  const patterns = options.keepEnv ?? [];
  for (const pattern of patterns)
    if (!NAME_PATTERN.test(pattern))
      throw new CliError(`--keep-env takes a variable name or a pattern with *, e.g. --keep-env 'SECRET_*'.`);
  return { pairs, keep: matcher(patterns), clean: options.cleanEnv === true };
}

/** The command and its arguments cannot hold a NUL byte (no process can receive one). */
export function checkCommand(command: string, args: readonly string[]): void {
  if (command.length === 0) throw new CliError("The command is empty.", EXIT.invalid);
  [command, ...args].forEach((arg, i) => {
    if (arg.includes("\0"))
      throw new CliError(
        `${i === 0 ? "The command" : `Argument ${i} of the command`} holds a NUL byte, which no process can receive.`,
        EXIT.invalid,
      );
  });
}

const isBasic = matcher(BASIC_VARIABLES);

/** The child's environment; `values[i]` is the value of `flags.pairs[i]`. */
export function childEnvironment(
  parent: CliIO["env"],
  flags: ChildEnvFlags,
  values: readonly string[],
  held: Held,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    const passed = flags.keep(name) || (flags.clean ? isBasic(name) : !held.withheld(name));
    if (!passed) continue;
    // A real environment cannot hold a NUL byte; an embedder's can. Say which, never the value.
    if (value.includes("\0"))
      throw new CliError(
        `Environment variable ${name} holds a NUL byte; the child cannot get it.`,
        EXIT.invalid,
      );
    env[name] = value;
  }
  flags.pairs.forEach(({ name, key }, i) => {
    const value = values[i] as string;
    if (value.includes("\0"))
      throw new InvalidSecretValueError(
        `--env ${name}: secret '${key}' holds a NUL byte, which an environment variable cannot carry.`,
      );
    env[name] = value;
  });
  return env;
}
