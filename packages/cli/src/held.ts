/**
 * What Keyway holds in its own environment: the env backend's `SECRET_*` variables, the
 * credential variables each backend's SDK reads (as each backend's definition lists them), and
 * the variables `keyway.yaml` read as `${VAR}`. `keyway run` keeps all of them from its child;
 * their values are registered with the redactor, so that a child that finds one another way
 * (a file, its own parent) still cannot print it, and so is the debug output.
 */
import { decodeSecretValue, readSecretVariables } from "@keyway/backend-env";
import type { Redactor } from "@keyway/core";
import type { CredentialVariables } from "@keyway/core/config";
import type { CliIO } from "./cli-io.js";
import { matcher } from "./patterns.js";

/** Values shorter than this are never masked (the redactor's minimum): not registered, no warning. */
const MIN_MASKED = 4;

/** The built-in backends' lists, loaded once per process. */
let builtIn: Promise<CredentialVariables> | undefined;

export interface Held {
  /** A variable the child must not get unless asked for with `--keep-env`. */
  readonly withheld: (name: string) => boolean;
  /** A variable whose value is a credential: masked in the child's output. */
  readonly masked: (name: string) => boolean;
}

/**
 * What Keyway holds: the built-in backends' credential variables, the configured backends'
 * (`credentials`, e.g. an env backend's own prefix), and the `${VAR}`s the config read.
 */
export async function heldVariables(
  configured: { variables: readonly string[]; credentials: CredentialVariables } | undefined,
): Promise<Held> {
  // Only `keyway run` and the debug output pay for loading the definitions (zod included).
  const { builtInCredentialVariables, mergeCredentialVariables } = await import("@keyway/core/config");
  builtIn ??= builtInCredentialVariables().catch((error: unknown) => {
    builtIn = undefined;
    throw error;
  });
  const lists = [await builtIn];

  if (configured) lists.push(configured.credentials);
  const credentials = mergeCredentialVariables(lists);
  const variables = configured?.variables ?? [];
  return {
    withheld: matcher([...credentials.secret, ...credentials.locator, ...variables]),
    masked: matcher([...credentials.secret, ...variables]),
  };
}

/** Registers the values of every held credential that is set. */
export function registerHeld(redactor: Redactor, env: CliIO["env"], held: Held): void {
  registerEnvSecrets(redactor, env);
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value.length >= MIN_MASKED && held.masked(name))
      redactor.register(value, { key: name });
  }
}

/** Registers every `SECRET_` variable: decoded, and its raw text too in case plaintext was put there. */
export function registerEnvSecrets(redactor: Redactor, env: CliIO["env"]): void {
  for (const variable of readSecretVariables(env)) {
    redactor.register(variable.raw, { key: variable.variable });
    const decoded = decodeSecretValue(variable.raw);
    if (decoded.ok) redactor.register(decoded.value, { key: variable.key });
  }
}
