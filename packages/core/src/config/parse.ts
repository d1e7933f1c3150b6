/**
 * Parsing `keyway.yaml`: YAML with line numbers, `${VAR}` substitution (remembering which values
 * came from variables, so errors conceal them, and which variables set each node, so messages name
 * them), and the schema check. Every error names the file, the line and the path, never a value.
 */
import {
  isPair,
  isScalar,
  LineCounter,
  type Node,
  parseDocument,
  visit,
  type Document as YamlDocument,
} from "yaml";
import { ConfigurationError, type OptionsIssue } from "../internal.js";
import { type Conceal, concealer } from "./conceal.js";
import { configSchema, type KeywayConfig } from "./schema.js";
import { unclosedFlowBracket } from "./yaml-errors.js";

type Env = Readonly<Record<string, string | undefined>>;

/** A parsed, validated config plus where each path sits in its file. */
export interface ParsedConfig {
  readonly config: KeywayConfig;
  /** `file:line` of a path in the document, for messages. */
  locate(path: ReadonlyArray<PropertyKey>): string;
  /** The environment variables the file read as `${VAR}`, sorted (names only). */
  readonly variables: readonly string[];
}

/**
 * What parseConfig learnt that must not be public: the expanded values (to conceal them in
 * errors) and which variables set each node (to name them in messages).
 */
export interface Expansion {
  readonly conceal: Conceal;
  /** ` (set from ${VAR})` for the node at a path whose text came from variables, else "". */
  origin(path: ReadonlyArray<PropertyKey>): string;
  /** Backends whose options could not be expanded (an unset `${VAR}`), with the error to give on use. */
  readonly broken: ReadonlyMap<string, ConfigurationError>;
}
const expansions = new WeakMap<ParsedConfig, Expansion>();
const NO_EXPANSION: Expansion = { conceal: concealer(new Map()), origin: () => "", broken: new Map() };
export const expansionOf = (parsed: ParsedConfig) => expansions.get(parsed) ?? NO_EXPANSION;

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

export function issuesError(
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

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return (
    path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") ||
    "<root>"
  );
}
