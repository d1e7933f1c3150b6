/**
 * The env backend's reads: the variables of each key (held since creation, read again by a probe)
 * and the value one variable gives.
 */
import { ConfigurationError, InvalidSecretValueError, SecretValue } from "@keyway/core/backend";
import { decodeSecretValue } from "./decode.js";
import { type EnvSecretVariable, readSecretVariables } from "./variables.js";

/** The variables of each key, as `get` serves them, and how often a probe found them changed. */
export class VariableTable {
  #variables: EnvSecretVariable[];
  readonly #byKey = new Map<string, EnvSecretVariable[]>();
  readonly #changes = new Map<string, number>();

  constructor(
    private readonly source: Readonly<Record<string, string | undefined>>,
    private readonly prefix: string,
  ) {
    this.#variables = readSecretVariables(source, prefix);
    for (const v of this.#variables) this.#byKey.set(v.key, [...(this.#byKey.get(v.key) ?? []), v]);
  }

  get variables(): readonly EnvSecretVariable[] {
    return this.#variables;
  }

  keys(): IterableIterator<[string, EnvSecretVariable[]]> {
    return this.#byKey.entries();
  }

  /** The variables of one key (upper-cased), as held. */
  find(key: string): EnvSecretVariable[] | undefined {
    return this.#byKey.get(key);
  }

  /** Reads the variables of one key again; when they differ from those held, holds the new ones. */
  reread(key: string): EnvSecretVariable[] | undefined {
    const now = readSecretVariables(this.source, this.prefix).filter((v) => v.key === key);
    const held = this.#byKey.get(key) ?? [];
    const same =
      now.length === held.length &&
      now.every((v, i) => v.variable === held[i]?.variable && v.raw === held[i]?.raw);
    if (!same) {
      this.#changes.set(key, (this.#changes.get(key) ?? 0) + 1);
      if (now.length > 0) this.#byKey.set(key, now);
      else this.#byKey.delete(key);
      this.#variables = [...this.#variables.filter((v) => v.key !== key), ...now].sort((a, b) =>
        a.variable < b.variable ? -1 : 1,
      );
    }
    return this.#byKey.get(key);
  }

  /** How often a probe found the key's variables changed since creation. */
  changes(key: string): number {
    return this.#changes.get(key) ?? 0;
  }
}

/** The value of one variable: decoded base64 (Kestra's way), or its text with `raw`. */
export function variableValue(
  variable: EnvSecretVariable,
  encoding: "base64" | "raw",
  backend: string,
): SecretValue {
  if (encoding === "raw") return SecretValue.fromText(variable.raw);
  const decoded = decodeSecretValue(variable.raw);
  if (!decoded.ok) {
    const hint = decoded.hint ? ` (${decoded.hint})` : "";
    throw new InvalidSecretValueError(
      `Environment variable ${variable.variable} cannot be used: ${decoded.reason}${hint}.`,
      { backend },
    );
  }
  return SecretValue.fromText(decoded.value);
}

/** Two variables for one key (keys are case-insensitive). */
export function duplicateError(matches: readonly EnvSecretVariable[], backend: string): ConfigurationError {
  const names = matches.map((m) => m.variable).join(" and ");
  return new ConfigurationError(
    `Secret '${matches[0]?.key}' is ambiguous: ${names} are both set (keys are case-insensitive); remove one.`,
    { backend },
  );
}
