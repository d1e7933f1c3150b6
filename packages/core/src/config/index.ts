/**
 * @keyway/core/config: `keyway.yaml` → a router. A separate entry point, so importing
 * `@keyway/core` does not pay for `yaml` and `zod`. Errors name the file, the line and the path
 * in the file, and never echo a value from it.
 */
import { readFile } from "node:fs/promises";
// From the main entry, not its modules: the bundle keeps this an import of `@keyway/core`'s own
// file (scripts/bundle.mjs), so both entries share one copy of every class.
import {
  type BackendDefinition,
  type BackendLookup,
  ConfigurationError,
  type CredentialVariables,
  createJsonLinesAuditSink,
  createMemoryBackend,
  createRouter,
  findRuleProblem,
  type OptionsIssue,
  type Redactor,
  type Router,
  rulePath,
  type SecretBackend,
} from "../internal.js";
import type { Conceal } from "./conceal.js";
import { BUILT_IN_BACKEND_TYPES, mergeCredentialVariables } from "./credentials.js";
import { createDefaultRouter, DEFAULT_BACKEND } from "./default.js";
import { configDir, isPackageType, loadPackageDefinition } from "./packages.js";
import { type Expansion, expansionOf, issuesError, type ParsedConfig, parseConfig } from "./parse.js";
import type { KeywayConfig } from "./schema.js";
import { unusableBackend } from "./unusable.js";

/** What `builtInCredentialVariables` and `mergeCredentialVariables` return. */
export type { CredentialVariables } from "../internal.js";
export {
  BUILT_IN_BACKEND_TYPES,
  builtInCredentialVariables,
  mergeCredentialVariables,
} from "./credentials.js";
export { createDefaultRouter, DEFAULT_BACKEND, type DefaultRouterOptions } from "./default.js";
export { type ParsedConfig, parseConfig } from "./parse.js";
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
  /**
   * Where a backend `type:` that names a package (`@acme/keyway-backend-foo`) is looked up first;
   * the working directory is next. @default the config file's folder
   */
  baseDir?: string | undefined;
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
  /** The backends the router was built with, by name: what each can do (`capabilities`), for a server over it. */
  readonly backends: Readonly<Record<string, SecretBackend>>;
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

/**
 * Finds a backend type: given definitions, built-in `memory`, a package name (./packages.ts), else
 * `@keyway/backend-<type>/definition`.
 */
async function loadDefinition(
  type: string,
  given: LoadOptions["definitions"],
  where: string,
  baseDir?: string,
): Promise<BackendDefinition<unknown>> {
  const known = given?.[type] ?? (type === "memory" ? memoryDefinition : undefined);
  if (known) return known as BackendDefinition<unknown>;
  if (isPackageType(type))
    return loadPackageDefinition(type, [...(baseDir ? [baseDir] : []), process.cwd()], where);
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

/** `createRouterFromConfig`, also giving the backends built and what the config reads from the environment. */
export function createConfiguredRouter(
  parsed: ParsedConfig,
  options: LoadOptions = {},
): Promise<ConfiguredRouter> {
  return buildRouter(parsed, options);
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
  // Before any backend is built: every name in `backends:` is a backend, of unknown capabilities.
  checkRules(
    config,
    (name) => (Object.hasOwn(config.backends, name) ? UNKNOWN_CAPABILITIES : undefined),
    locate,
    origin,
  );
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
        options.baseDir,
      );
      const { type: _type, ...rest } = raw;
      const checked = definition.optionsSchema.safeParse(definition.type === "memory" ? raw : rest);
      if (!checked.success) throw issuesError(checked.error.issues, locate, origin, ["backends", name]);
      backends[name] = definition.create(checked.data, { name, env, baseDir: options.baseDir });
      const listed = definition.credentialVariables?.(checked.data as Partial<unknown>);
      if (listed) credentials.push(listed);
    } catch (error) {
      // Only the commands that use this backend fail, with this error (issue #20 point 5).
      if (!(error instanceof ConfigurationError) || options.strict) throw error;
      backends[name] = unusableBackend(name, conceal(error) as ConfigurationError);
    }
  }
  // Built: what each backend can do (a tenant rule on one that ignores tenants needs `shared`).
  checkRules(config, (name) => (Object.hasOwn(backends, name) ? backends[name] : undefined), locate, origin);
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
    backends,
    // A ParsedConfig built by hand (before `variables` existed) read no variables Keyway knows of.
    environment: { variables: parsed.variables ?? [], credentials: mergeCredentialVariables(credentials) },
  };
}

const UNKNOWN_CAPABILITIES = { capabilities: {} } as const;

/**
 * The rules, checked by the router's own rule validation (router/rules.ts), each problem named by
 * its place in the file and never by the value (a `${VAR}` may have put a secret there).
 * `backendOf` says which names are backends: before they are built, the names in `backends:`.
 */
function checkRules(
  config: KeywayConfig,
  backendOf: BackendLookup,
  locate: ParsedConfig["locate"],
  origin: Expansion["origin"],
): void {
  const problem = findRuleProblem(config.namespaces, backendOf);
  if (problem === undefined) return;
  const path = ["namespaces", ...problem.path];
  throw new ConfigurationError(`${locate(path)}: ${rulePath(problem)}: ${problem.reason}${origin(path)}`);
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
  return buildRouter(parsed, { ...options, baseDir: options.baseDir ?? configDir(file.source) });
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
  return {
    router: createDefaultRouter(backend, options),
    environment: { variables: [], credentials },
    backends: { [name]: backend },
  };
}

const EMPTY: CredentialVariables = { secret: [], locator: [] };
