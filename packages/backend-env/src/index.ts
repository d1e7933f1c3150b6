/**
 * @keyway/backend-env: Kestra's open-source secrets. Every `SECRET_<KEY>` environment variable
 * holds a base64 value (or plaintext with `encoding: "raw"`); keys are global (namespaces and
 * tenants are ignored) and looked up case-insensitively. Read once, at creation; a variable is read
 * again only when its version is probed (`router.watch`), see `probeVersion`.
 */
import {
  type BackendCapabilities,
  ConfigurationError,
  InvalidSecretValueError,
  isValidKey,
  type SecretBackend,
  type SecretListing,
  SecretNotFoundError,
  SecretValue,
  validateRef,
} from "@keyway/core/backend";
import { decodeSecretValue } from "./decode.js";

export { decodeSecretValue, decodeStrictBase64 } from "./decode.js";

/** Options of {@link createEnvBackend}. */
export interface EnvBackendOptions {
  /** The variables to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Variable name prefix, case-sensitive. @default "SECRET_" */
  prefix?: string | undefined;
  /** `base64` as Kestra; `raw` for plaintext injected by Kubernetes or External Secrets. @default "base64" */
  encoding?: "base64" | "raw" | undefined;
  /** The backend's name in errors and stats. @default "env" */
  name?: string | undefined;
  /** Where warnings go (never with a value). @default process.emitWarning */
  onWarning?: ((message: string) => void) | undefined;
}

/** One `SECRET_` variable, as found. */
export interface EnvSecretVariable {
  /** The variable's name, e.g. `SECRET_API_TOKEN`. */
  readonly variable: string;
  /** The key, upper-cased, e.g. `API_TOKEN`. */
  readonly key: string;
  /** The variable's text before decoding. */
  readonly raw: string;
}

/** The env backend's own extra: every variable it read, for redaction of raw text. */
export interface EnvBackend extends SecretBackend {
  /** Every `SECRET_` variable, valid or not (for `keyway redact`: plaintext put there by mistake). */
  variables(): readonly EnvSecretVariable[];
}

/** Reads the `SECRET_` variables of `env` (pure; exported for tools such as `keyway redact`). */
export function readSecretVariables(
  env: Readonly<Record<string, string | undefined>>,
  prefix = "SECRET_",
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

/**
 * Creates the env backend.
 * @example
 * // SECRET_API_TOKEN=dDBrZW4= (base64 of "t0ken")
 * const backend = createEnvBackend();
 * (await backend.get({ namespace: "", key: "api_token" })).reveal(); // "t0ken"
 */
export function createEnvBackend(options: EnvBackendOptions = {}): EnvBackend {
  const name = options.name ?? "env";
  const encoding = options.encoding ?? "base64";
  if (encoding !== "base64" && encoding !== "raw") {
    throw new ConfigurationError(`Env backend option 'encoding' must be "base64" or "raw".`);
  }
  const warn = options.onWarning ?? ((message: string) => process.emitWarning(message, "KeywayWarning"));
  const source = options.env ?? process.env;
  const prefix = options.prefix ?? "SECRET_";
  let variables = readSecretVariables(source, prefix);
  const byKey = new Map<string, EnvSecretVariable[]>();
  for (const v of variables) byKey.set(v.key, [...(byKey.get(v.key) ?? []), v]);
  /** Per key: how often a probe found its variables changed since creation. */
  const changes = new Map<string, number>();

  /** Reads the variables of one key again; when they differ from those held, holds the new ones. */
  const reread = (key: string): EnvSecretVariable[] | undefined => {
    const now = readSecretVariables(source, prefix).filter((v) => v.key === key);
    const held = byKey.get(key) ?? [];
    const same =
      now.length === held.length &&
      now.every((v, i) => v.variable === held[i]?.variable && v.raw === held[i]?.raw);
    if (!same) {
      changes.set(key, (changes.get(key) ?? 0) + 1);
      if (now.length > 0) byKey.set(key, now);
      else byKey.delete(key);
      variables = [...variables.filter((v) => v.key !== key), ...now].sort((a, b) =>
        a.variable < b.variable ? -1 : 1,
      );
    }
    return byKey.get(key);
  };

  const capabilities: BackendCapabilities = {
    write: false,
    list: true,
    batch: false,
    versions: false,
    caseSensitiveKeys: false,
    global: true,
    maxValueBytes: 128 * 1024,
  };

  return {
    name,
    capabilities,
    variables: () => variables,
    async get(input) {
      const ref = validateRef(input);
      const matches = byKey.get(ref.key.toUpperCase());
      if (!matches) throw new SecretNotFoundError(ref.key, { backend: name });
      if (matches.length > 1) throw duplicateError(matches, name);
      const [variable] = matches as [EnvSecretVariable];
      if (encoding === "raw") return SecretValue.fromText(variable.raw);
      const decoded = decodeSecretValue(variable.raw);
      if (!decoded.ok) {
        const hint = decoded.hint ? ` (${decoded.hint})` : "";
        throw new InvalidSecretValueError(
          `Environment variable ${variable.variable} cannot be used: ${decoded.reason}${hint}.`,
          { backend: name },
        );
      }
      return SecretValue.fromText(decoded.value);
    },
    /**
     * Env variables change only when they are read again, and this is that re-read: the key's
     * variables are read from `env` again and, when their text differs from what `get` served,
     * `get` serves the new text from now on. The version is a count of those changes ("1" at
     * creation), not a digest: a hash of a low-entropy secret would let anyone who sees the
     * version test guesses offline, and a count tells only that the value changed. It is this
     * backend instance's count (a new process starts again at "1").
     */
    async probeVersion(input) {
      const ref = validateRef(input);
      const key = ref.key.toUpperCase();
      const matches = reread(key);
      if (!matches) throw new SecretNotFoundError(ref.key, { backend: name });
      if (matches.length > 1) throw duplicateError(matches, name);
      return String(1 + (changes.get(key) ?? 0));
    },
    async list() {
      const listed: SecretListing[] = [];
      for (const [key, matches] of byKey) {
        if (matches.length > 1) warn(duplicateError(matches, name).message);
        else if (!isValidKey(key))
          warn(`Environment variable ${matches[0]?.variable} is ignored: its key is not valid.`);
        else listed.push({ key, metadata: {} });
      }
      return listed.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
  };
}

function duplicateError(matches: readonly EnvSecretVariable[], backend: string): ConfigurationError {
  const names = matches.map((m) => m.variable).join(" and ");
  return new ConfigurationError(
    `Secret '${matches[0]?.key}' is ambiguous: ${names} are both set (keys are case-insensitive); remove one.`,
    { backend },
  );
}
