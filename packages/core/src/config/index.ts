/**
 * @keyway/core/config: `keyway.yaml` → a router. A separate entry point, so importing
 * `@keyway/core` does not pay for `yaml` and `zod`. Errors name the file, the line and the path
 * in the file, and never echo a value from it.
 */
import { readFile } from "node:fs/promises";
import { isScalar, LineCounter, type Node, parseDocument, visit, type Document as YamlDocument } from "yaml";
// From the main entry, not its modules: the bundle keeps this an import of `@keyway/core`'s own
// file (scripts/bundle.mjs), so both entries share one copy of every class.
import {
  type BackendDefinition,
  ConfigurationError,
  createJsonLinesAuditSink,
  createMemoryBackend,
  createRouter,
  isValidNamespace,
  isValidTenant,
  type OptionsIssue,
  type Redactor,
  type Router,
  type SecretBackend,
} from "../index.js";
import { createDefaultRouter, DEFAULT_BACKEND } from "./default.js";
import { configSchema, type KeywayConfig } from "./schema.js";

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
}

/** A parsed, validated config plus where each path sits in its file. */
export interface ParsedConfig {
  readonly config: KeywayConfig;
  /** `file:line` of a path in the document, for messages. */
  locate(path: ReadonlyArray<PropertyKey>): string;
}

/** Parses and validates config text; `${VAR}` is taken from `env`, `$${` writes `${`. */
export function parseConfig(text: string, options: { env?: Env; source?: string } = {}): ParsedConfig {
  const source = options.source ?? "keyway.yaml";
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? "" : `:${lineCounter.linePos(offset).line}`;
  const first = doc.errors[0];
  if (first) {
    throw new ConfigurationError(
      `${source}${lineOf(first.pos[0])}: not valid YAML (${first.code.toLowerCase().replace(/_/g, " ")}).`,
    );
  }
  substituteVariables(doc, options.env ?? process.env, (node, why) => {
    throw new ConfigurationError(`${source}${lineOf(node.range?.[0])}: ${why}`);
  });
  const locate = (path: ReadonlyArray<PropertyKey>) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node && typeof node === "object" && "range" in node) return `${source}${lineOf(node.range?.[0])}`;
    }
    return source;
  };
  let plain: unknown;
  try {
    plain = doc.toJS();
  } catch {
    // yaml refuses documents whose aliases expand without bound ("billion laughs").
    throw new ConfigurationError(`${source}: not valid YAML (too many aliases, or an alias loop).`);
  }
  const parsed = configSchema.safeParse(plain ?? {});
  if (!parsed.success) throw issuesError(parsed.error.issues, locate, []);
  return { config: parsed.data, locate };
}

/** Replaces `${VAR}` in every string scalar; an unset variable is an error naming it. */
function substituteVariables(doc: YamlDocument, env: Env, fail: (node: Node, why: string) => never): void {
  visit(doc, {
    Scalar(_, node) {
      if (!isScalar(node) || typeof node.value !== "string" || !node.value.includes("$")) return;
      node.value = node.value.replace(/\$\$\{|\$\{([^}]*)\}/g, (match, variable: string | undefined) => {
        if (match === "$${") return "${";
        if (!variable || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
          return fail(node, `'${match}' is not a valid variable reference.`);
        const value = env[variable];
        if (value === undefined)
          return fail(node, `environment variable ${variable} is not set (used as \${${variable}}).`);
        return value;
      });
    },
  });
}

function issuesError(
  issues: readonly OptionsIssue[],
  locate: ParsedConfig["locate"],
  prefix: PropertyKey[],
): ConfigurationError {
  const lines = issues.slice(0, 10).map((issue) => {
    // An unknown key is reported on its parent by zod; point at the key itself.
    const keys = (issue as { keys?: string[] }).keys;
    const path = [...prefix, ...issue.path, ...(keys?.length === 1 ? keys : [])];
    return `${locate(path)}: ${formatPath(path)}: ${issue.message}`;
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
    throw new ConfigurationError(
      missing
        ? `${where}: backend type '${type}' needs the package @keyway/backend-${type}: npm install @keyway/backend-${type}.`
        : `${where}: backend type '${type}' failed to load.`,
      { cause: error },
    );
  }
}

/** Builds the router a parsed config describes. Backends are created, not connected. */
export async function createRouterFromConfig(
  parsed: ParsedConfig,
  options: LoadOptions = {},
): Promise<Router> {
  const { config, locate } = parsed;
  checkRules(config, locate);
  const env = options.env ?? process.env;
  const backends: Record<string, SecretBackend> = {};
  for (const [name, raw] of Object.entries(config.backends)) {
    const where = locate(["backends", name, "type"]);
    const definition = await loadDefinition(raw.type, options.definitions, where);
    const { type: _type, ...rest } = raw;
    const checked = definition.optionsSchema.safeParse(definition.type === "memory" ? raw : rest);
    if (!checked.success) throw issuesError(checked.error.issues, locate, ["backends", name]);
    backends[name] = definition.create(checked.data, { name, env });
  }
  try {
    return createRouter({
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
  } catch (error) {
    const match = /^namespaces\[(\d+)\]/.exec((error as Error).message);
    if (error instanceof ConfigurationError && match) {
      throw new ConfigurationError(`${locate(["namespaces", Number(match[1])])}: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The rules' references, checked here so each problem names its place in the file and never the
 * value (a `${VAR}` may have put a secret there), and so a name such as `constructor` cannot pass
 * for a backend through Object.prototype.
 */
function checkRules(config: KeywayConfig, locate: ParsedConfig["locate"]): void {
  const fail = (path: PropertyKey[], why: string): never => {
    throw new ConfigurationError(`${locate(path)}: ${formatPath(path)}: ${why}`);
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
  const file = await readConfigFile(options);
  if (file === undefined) return loadDefaultRouter(options);
  const parsed = parseConfig(file.text, { env: options.env, source: file.source });
  return createRouterFromConfig(parsed, options);
}

/** The default router (./default.ts), its env backend built by the env type's definition (a given one first). */
async function loadDefaultRouter(options: LoadOptions): Promise<Router> {
  const { name, type } = DEFAULT_BACKEND;
  const definition = await loadDefinition(type, options.definitions, "<default>");
  const checked = definition.optionsSchema.safeParse({});
  if (!checked.success) throw issuesError(checked.error.issues, () => "<default>", ["backends", name]);
  const backend = definition.create(checked.data, { name, env: options.env ?? process.env });
  return createDefaultRouter(backend, options);
}
