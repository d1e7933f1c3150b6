/**
 * @keyway/core/config: `keyway.yaml` → a router. A separate entry point, so importing
 * `@keyway/core` does not pay for `yaml` and `zod`. Errors name the file, the line and the path
 * in the file, and never echo a value from it.
 */
import { readFile } from "node:fs/promises";
import {
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type Document as YamlDocument,
} from "yaml";
// From the main entry, not its modules: the bundle keeps this an import of `@keyway/core`'s own
// file (scripts/bundle.mjs), so both entries share one copy of every class.
import {
  type BackendDefinition,
  ConfigurationError,
  type CredentialVariables,
  createJsonLinesAuditSink,
  createMemoryBackend,
  createRouter,
  isValidNamespace,
  isValidTenant,
  type OptionsIssue,
  type Redactor,
  type Router,
  type SecretBackend,
} from "../internal.js";
import { type Conceal, concealer } from "./conceal.js";
import { BUILT_IN_BACKEND_TYPES, mergeCredentialVariables } from "./credentials.js";
import { createDefaultRouter, DEFAULT_BACKEND } from "./default.js";
import { configSchema, type KeywayConfig } from "./schema.js";
import { unusableBackend } from "./unusable.js";
import { unclosedFlowBracket } from "./yaml-errors.js";

/** What `builtInCredentialVariables` and `mergeCredentialVariables` return. */
export type { CredentialVariables } from "../internal.js";
export {
  BUILT_IN_BACKEND_TYPES,
  builtInCredentialVariables,
  mergeCredentialVariables,
} from "./credentials.js";
export { createDefaultRouter, DEFAULT_BACKEND, type DefaultRouterOptions } from "./default.js";
export { type KeywayConfig, type KeywayConfigInput, parseDuration } from "./schema.js";

type Env = Readonly<Record<string, string | undefined>>;

export interface LoadOptions {
  /** `--config`; else `KEYWAY_CONFIG`; else `./keyway.yaml` if it exists. */
  path?: string | undefined;
  /** Environment for `${VAR}`, `KEYWAY_CONFIG` and the env backend. @default process.env */
  env?: Env | undefined;
  /** Backend types known without an import (tests, embedders). */
  definitions?: Readonly<Record<string, BackendDefinition<never>>> | undefined;
  redactor?: Redactor | undefined;
  /** Values for `{{ envs.name }}`. */
  envs?: Readonly<Record<string, string>> | undefined;
  /**
   * Fail the load on the first backend that cannot be built, instead of failing only the commands
   * that use it (a config check, a test). Either way `router.prepare()` reports every one.
   * @default false
   */
  strict?: boolean | undefined;
}

/** A parsed, validated config plus where each path sits in its file. */
export interface ParsedConfig {
  readonly config: KeywayConfig;
  /** `file:line` of a path in the document, for messages. */
  locate(path: ReadonlyArray<PropertyKey>): string;
  /** The environment variables the file read as `${VAR}`, sorted (names only). */
  readonly variables: readonly string[];
}

/** What a loaded config reads from the environment: what `keyway run` keeps from its child. */
export interface ConfigEnvironment {
  /** The variables the file read as `${VAR}` (names only). */
  readonly variables: readonly string[];
  /** The credential variables of the configured backends (as each backend's definition lists them). */
  readonly credentials: CredentialVariables;
}

/** A router and what its config reads from the environment. */
export interface ConfiguredRouter {
  readonly router: Router;
  readonly environment: ConfigEnvironment;
}

/**
 * What parseConfig learnt that must not be public: the expanded values (to conceal them in
 * errors) and which variables set each node (to name them in messages).
 */
interface Expansion {
  readonly conceal: Conceal;
  /** ` (set from ${VAR})` for the node at a path whose text came from variables, else "". */
  origin(path: ReadonlyArray<PropertyKey>): string;
  /** Backends whose options could not be expanded (an unset `${VAR}`), with the error to give on use. */
  readonly broken: ReadonlyMap<string, ConfigurationError>;
}
const expansions = new WeakMap<ParsedConfig, Expansion>();
const NO_EXPANSION: Expansion = { conceal: concealer(new Map()), origin: () => "", broken: new Map() };
const expansionOf = (parsed: ParsedConfig) => expansions.get(parsed) ?? NO_EXPANSION;

/** Parses and validates config text; `${VAR}` is taken from `env`, `$${` writes `${`. */
export function parseConfig(text: string, options: { env?: Env; source?: string } = {}): ParsedConfig {
  const source = options.source ?? "keyway.yaml";
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? "" : `:${lineCounter.linePos(offset).line}`;
  const first = doc.errors[0];
  if (first) {
    const why = first.code.toLowerCase().replace(/_/g, " ");
    // The parser trips over the line after an unclosed `{`/`[`: name the line that opened it.
    const bracket = unclosedFlowBracket(text, first.pos[0]);
    throw new ConfigurationError(
      bracket
        ? `${source}${lineOf(bracket.offset)}: not valid YAML: the '${bracket.char}' opened here is not closed (add '${bracket.char === "{" ? "}" : "]"}').`
        : `${source}${lineOf(first.pos[0])}: not valid YAML (${why}).`,
    );
  }
  const broken = new Map<string, ConfigurationError>();
  const { values, origins } = substituteVariables(doc, options.env ?? process.env, (node, why, backend) => {
    const error = new ConfigurationError(`${source}${lineOf(node.range?.[0])}: ${why}`);
    // Inside one backend's options: only the commands that use that backend fail (see unusable.ts).
    if (backend === undefined) throw error;
    if (!broken.has(backend)) broken.set(backend, error);
    return "";
  });
  const conceal = concealer(values);
  const locate = (path: ReadonlyArray<PropertyKey>) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node && typeof node === "object" && "range" in node) return `${source}${lineOf(node.range?.[0])}`;
    }
    return source;
  };
  const origin = (path: ReadonlyArray<PropertyKey>) => {
    const names = origins.get(doc.getIn(path as unknown[], true) as Node);
    return names ? ` (set from ${[...names].map((n) => `\${${n}}`).join(", ")})` : "";
  };
  try {
    let plain: unknown;
    try {
      plain = doc.toJS();
    } catch {
      // yaml refuses documents whose aliases expand without bound ("billion laughs").
      throw new ConfigurationError(`${source}: not valid YAML (too many aliases, or an alias loop).`);
    }
    const checked = configSchema.safeParse(plain ?? {});
    if (!checked.success) throw issuesError(checked.error.issues, locate, origin, []);
    const parsed: ParsedConfig = { config: checked.data, locate, variables: [...values.keys()].sort() };
    expansions.set(parsed, { conceal, origin, broken });
    return parsed;
  } catch (error) {
    throw conceal(error);
  }
}

/**
 * Replaces `${VAR}` in every string scalar (keys too); an unset variable is an error naming it.
 * Returns each variable read with its value, and which variables set each node.
 */
function substituteVariables(
  doc: YamlDocument,
  env: Env,
  fail: (node: Node, why: string, backend: string | undefined) => string,
): { values: Map<string, string>; origins: WeakMap<Node, Set<string>> } {
  const values = new Map<string, string>();
  const origins = new WeakMap<Node, Set<string>>();
  visit(doc, {
    Scalar(_, node, path) {
      if (!isScalar(node) || typeof node.value !== "string" || !node.value.includes("$")) return;
      const backend = backendOf(node, path);
      node.value = node.value.replace(/\$\$\{|\$\{([^}]*)\}/g, (match, variable: string | undefined) => {
        if (match === "$${") return "${";
        if (!variable || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
          return fail(node, `'${match}' is not a valid variable reference.`, undefined);
        const value = env[variable];
        if (value === undefined)
          return fail(
            node,
            `environment variable ${variable} is not set (used as \${${variable}}).`,
            backend,
          );
        values.set(variable, value);
        const names = origins.get(node) ?? new Set<string>();
        origins.set(node, names.add(variable));
        return value;
      });
    },
  });
  return { values, origins };
}

/**
 * The backend whose options hold `node` (`backends.<name>.…`, below its `type`), else undefined.
 * `path` is the node's ancestors: document, root map, the `backends` pair, its map, the backend's pair.
 */
function backendOf(node: Node, path: readonly unknown[]): string | undefined {
  const [, , section, , entry, , field] = path;
  if (!isPair(section) || !isScalar(section.key) || section.key.value !== "backends") return undefined;
  if (!isPair(entry) || !isScalar(entry.key) || entry.key === node) return undefined;
  // A backend's name or type from an unset variable leaves nothing to name: fail at once.
  if (isPair(field) && isScalar(field.key) && (field.key === node || field.key.value === "type"))
    return undefined;
  return path.length > 6 ? String(entry.key.value) : undefined;
}

function issuesError(
  issues: readonly OptionsIssue[],
  locate: ParsedConfig["locate"],
  origin: Expansion["origin"],
  prefix: PropertyKey[],
): ConfigurationError {
  const lines = issues.slice(0, 10).map((issue) => {
    // An unknown key is reported on its parent by zod; point at the key itself.
    const keys = (issue as { keys?: string[] }).keys;
    const path = [...prefix, ...issue.path, ...(keys?.length === 1 ? keys : [])];
    return `${locate(path)}: ${formatPath(path)}: ${issue.message}${origin(path)}`;
  });
  return new ConfigurationError(`Invalid configuration:\n  ${lines.join("\n  ")}`);
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") ||
    "<root>"
  );
}

const memoryDefinition: BackendDefinition<{ initial?: Record<string, string>; maxValueBytes?: number }> = {
  type: "memory",
  optionsSchema: {
    safeParse(input) {
      const { type: _type, ...rest } = (input ?? {}) as Record<string, unknown>;
      const issues: OptionsIssue[] = Object.keys(rest)
        .filter((k) => k !== "initial" && k !== "maxValueBytes")
        .map((k) => ({ path: [k], message: `unknown option '${k}' (memory takes initial, maxValueBytes)` }));
      return issues.length ? { success: false, error: { issues } } : { success: true, data: rest };
    },
  },
  create: (options, { name }) => createMemoryBackend({ ...options, name }),
};

/** Finds a backend type: given definitions, built-in `memory`, else `@keyway/backend-<type>/definition`. */
async function loadDefinition(
  type: string,
  given: LoadOptions["definitions"],
  where: string,
): Promise<BackendDefinition<unknown>> {
  const known = given?.[type] ?? (type === "memory" ? memoryDefinition : undefined);
  if (known) return known as BackendDefinition<unknown>;
  try {
    const module = (await import(`@keyway/backend-${type}/definition`)) as {
      definition: BackendDefinition<unknown>;
    };
    return module.definition;
  } catch (error) {
    const missing = (error as { code?: string }).code === "ERR_MODULE_NOT_FOUND";
    const near = nearest(type, [...BUILT_IN_BACKEND_TYPES, "memory"]);
    throw new ConfigurationError(
      missing
        ? `${where}: backend type '${type}' needs the package @keyway/backend-${type}: ${near ? `did you mean '${near}'? Else ` : ""}npm install @keyway/backend-${type}.`
        : `${where}: backend type '${type}' failed to load.`,
      { cause: error },
    );
  }
}

/** The known word within two edits of `word` (a typo), if there is one. */
function nearest(word: string, known: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(word, candidate);
    if (distance <= 2 && distance < (best?.distance ?? 3)) best = { word: candidate, distance };
  }
  return best?.word;
}

/** Levenshtein distance; the words are a backend type's few letters, so the plain table is enough. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(
        (row[j] as number) + 1,
        (next[j - 1] as number) + 1,
        (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    row = next;
  }
  return row[b.length] as number;
}

/** Builds the router a parsed config describes. Backends are created, not connected. */
export async function createRouterFromConfig(
  parsed: ParsedConfig,
  options: LoadOptions = {},
): Promise<Router> {
  return (await buildRouter(parsed, options)).router;
}

/** The router of a parsed config, and the credential variables of its backends. */
async function buildRouter(parsed: ParsedConfig, options: LoadOptions): Promise<ConfiguredRouter> {
  const { conceal, origin, broken } = expansionOf(parsed);
  try {
    return await buildConcealed(parsed, origin, broken, conceal, options);
  } catch (error) {
    throw conceal(error);
  }
}

async function buildConcealed(
  parsed: ParsedConfig,
  origin: Expansion["origin"],
  broken: Expansion["broken"],
  conceal: Conceal,
  options: LoadOptions,
): Promise<ConfiguredRouter> {
  const { config, locate } = parsed;
  checkRules(config, locate, origin);
  const env = options.env ?? process.env;
  const backends: Record<string, SecretBackend> = {};
  const credentials: CredentialVariables[] = [];
  for (const [name, raw] of Object.entries(config.backends)) {
    try {
      const unexpanded = broken.get(name);
      if (unexpanded) throw unexpanded;
      const definition = await loadDefinition(
        raw.type,
        options.definitions,
        locate(["backends", name, "type"]),
      );
      const { type: _type, ...rest } = raw;
      const checked = definition.optionsSchema.safeParse(definition.type === "memory" ? raw : rest);
      if (!checked.success) throw issuesError(checked.error.issues, locate, origin, ["backends", name]);
      backends[name] = definition.create(checked.data, { name, env });
      const listed = definition.credentialVariables?.(checked.data as Partial<unknown>);
      if (listed) credentials.push(listed);
    } catch (error) {
      // Only the commands that use this backend fail, with this error (issue #20 point 5).
      if (!(error instanceof ConfigurationError) || options.strict) throw error;
      backends[name] = unusableBackend(name, conceal(error) as ConfigurationError);
    }
  }
  try {
    const router = createRouter({
      backends,
      rules: config.namespaces,
      cache: config.cache && {
        maxEntries: config.cache.maxEntries,
        ttlMs: config.cache.ttl,
        negativeTtlMs: config.cache.negativeTtl,
        staleIfErrorMs: config.cache.staleIfError,
        staleRetryMs: config.cache.staleRetry,
        jitter: config.cache.jitter,
        refreshAhead: config.cache.refreshAhead,
      },
      timeoutMs: config.timeout,
      retry: config.retry && {
        attempts: config.retry.attempts,
        baseDelayMs: config.retry.baseDelay,
        maxDelayMs: config.retry.maxDelay,
      },
      breaker: config.breaker && { threshold: config.breaker.threshold, cooldownMs: config.breaker.cooldown },
      audit: config.audit ? createJsonLinesAuditSink(config.audit.file) : undefined,
      redactor: options.redactor,
      envs: options.envs,
    });
    return {
      router,
      // A ParsedConfig built by hand (before `variables` existed) read no variables Keyway knows of.
      environment: { variables: parsed.variables ?? [], credentials: mergeCredentialVariables(credentials) },
    };
  } catch (error) {
    const match = /^namespaces\[(\d+)\]/.exec((error as Error).message);
    if (error instanceof ConfigurationError && match) {
      const path = ["namespaces", Number(match[1])];
      throw new ConfigurationError(`${locate(path)}: ${error.message}${origin([...path, "match"])}`);
    }
    throw error;
  }
}

/**
 * The rules' references, checked here so each problem names its place in the file and never the
 * value (a `${VAR}` may have put a secret there), and so a name such as `constructor` cannot pass
 * for a backend through Object.prototype.
 */
function checkRules(config: KeywayConfig, locate: ParsedConfig["locate"], origin: Expansion["origin"]): void {
  const fail = (path: PropertyKey[], why: string): never => {
    throw new ConfigurationError(`${locate(path)}: ${formatPath(path)}: ${why}${origin(path)}`);
  };
  const defined = (name: string) => Object.hasOwn(config.backends, name);
  config.namespaces.forEach((rule, i) => {
    const at = (...rest: PropertyKey[]) => ["namespaces", i, ...rest];
    if (!isValidNamespace(rule.match))
      fail(
        at("match"),
        'not a valid namespace: dot-separated segments of A-Z a-z 0-9 _ -, or "" for the root.',
      );
    if (rule.tenant !== undefined && !isValidTenant(rule.tenant))
      fail(at("tenant"), "not a valid tenant: use [a-z0-9][a-z0-9-]{0,62}.");
    if (!defined(rule.backend))
      fail(at("backend"), `backend '${rule.backend}' is not defined in 'backends'.`);
    (rule.fallback ?? []).forEach((name, j) => {
      if (!defined(name)) fail(at("fallback", j), `backend '${name}' is not defined in 'backends'.`);
    });
    (rule.allowedNamespaces ?? []).forEach((ns, j) => {
      if (!isValidNamespace(ns))
        fail(at("allowedNamespaces", j), "not a valid namespace: dot-separated segments of A-Z a-z 0-9 _ -.");
    });
  });
}

/** The config file to use: `path`, else `KEYWAY_CONFIG`, else `./keyway.yaml` if it exists. */
export async function readConfigFile(
  options: LoadOptions = {},
): Promise<{ text: string; source: string } | undefined> {
  const explicit = options.path ?? (options.env ?? process.env).KEYWAY_CONFIG;
  const source = explicit ?? "keyway.yaml";
  try {
    return { text: await readFile(source, "utf8"), source };
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT" && explicit === undefined) return undefined;
    throw new ConfigurationError(
      `Cannot read config file ${source}: ${(error as { code?: string }).code ?? "error"}.`,
    );
  }
}

/** Finds, parses and validates the config, and builds its router; without a file, the default router. */
export async function loadRouter(options: LoadOptions = {}): Promise<Router> {
  return (await loadConfiguredRouter(options)).router;
}

/**
 * `loadRouter`, also saying what the config reads from the environment: the `${VAR}` names and
 * the configured backends' credential variables (`keyway run` keeps both from its child).
 */
export async function loadConfiguredRouter(options: LoadOptions = {}): Promise<ConfiguredRouter> {
  const file = await readConfigFile(options);
  if (file === undefined) return loadDefaultRouter(options);
  const parsed = parseConfig(file.text, { env: options.env, source: file.source });
  return buildRouter(parsed, options);
}

/** The default router (./default.ts), its env backend built by the env type's definition (a given one first). */
async function loadDefaultRouter(options: LoadOptions): Promise<ConfiguredRouter> {
  const { name, type } = DEFAULT_BACKEND;
  const definition = await loadDefinition(type, options.definitions, "<default>");
  const checked = definition.optionsSchema.safeParse({});
  if (!checked.success)
    throw issuesError(
      checked.error.issues,
      () => "<default>",
      () => "",
      ["backends", name],
    );
  const backend = definition.create(checked.data, { name, env: options.env ?? process.env });
  const credentials = mergeCredentialVariables([definition.credentialVariables?.({}) ?? EMPTY]);
  return { router: createDefaultRouter(backend, options), environment: { variables: [], credentials } };
}

const EMPTY: CredentialVariables = { secret: [], locator: [] };
