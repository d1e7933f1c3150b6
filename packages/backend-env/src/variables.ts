/** Reading `SECRET_` and `ENV_` variables (pure; exported for tools such as `keyway redact`). */

/** The prefix of the variables that hold secrets, as Kestra's. */
export const DEFAULT_PREFIX = "SECRET_";

/** One `SECRET_` variable, as found. */
export interface EnvSecretVariable {
  /** The variable's name, e.g. `SECRET_API_TOKEN`. */
  readonly variable: string;
  /** The key, upper-cased, e.g. `API_TOKEN`. */
  readonly key: string;
  /** The variable's text before decoding. */
  readonly raw: string;
}

/** Reads the `SECRET_` variables of `env`, sorted by variable name. */
export function readSecretVariables(
  env: Readonly<Record<string, string | undefined>>,
  prefix = DEFAULT_PREFIX,
): EnvSecretVariable[] {
  const found: EnvSecretVariable[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (raw === undefined || !variable.startsWith(prefix)) continue;
    found.push({ variable, key: variable.slice(prefix.length).toUpperCase(), raw });
  }
  return found.sort((a, b) => (a.variable < b.variable ? -1 : 1));
}

/**
 * `{{ envs.name }}`: variables with the prefix, prefix removed, name lower-cased. Not decoded, not
 * secrets (Kestra >= 0.23 uses `ENV_`).
 */
export function readEnvsVariables(
  env: Readonly<Record<string, string | undefined>> = process.env,
  prefix = "ENV_",
): Record<string, string> {
  const envs: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.startsWith(prefix)) envs[name.slice(prefix.length).toLowerCase()] = value;
  }
  return envs;
}
