/**
 * Third-party backends: a `type:` in `keyway.yaml` that names a package (`@acme/keyway-backend-foo`,
 * or `keyway-backend-foo/definition`) is imported from the user's project, and must export a
 * backend definition. Built-in words (`aws`, `vault`, …) stay `@keyway/backend-<type>`.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { type BackendDefinition, ConfigurationError } from "../internal.js";

/** npm's package-name characters; a scope, a name, and entry segments (never `.` or `..`). */
const SEGMENT = "[a-z0-9_~-][a-z0-9._~-]*";
const PACKAGE_TYPE = new RegExp(`^(?:@${SEGMENT}/)?${SEGMENT}(?:/${SEGMENT})*$`);

/** Whether `type` names a package (it has a `/`: a scope or an entry) rather than a built-in type. */
export function isPackageType(type: string): boolean {
  return type.includes("/");
}

/** A package type as the schema accepts it: npm's name rules, at most 214 characters. */
export function isValidPackageType(type: string): boolean {
  return isPackageType(type) && type.length <= 214 && PACKAGE_TYPE.test(type);
}

/** The config file's folder, where its backend packages are looked up first. */
export const configDir = (source: string) => path.dirname(path.resolve(source));

/**
 * The definition a package type names. Looked up from `from` (the config file's folder, then the
 * working directory), as Node would from a file there; else from @keyway/core's own place (a
 * global install). `<package>/definition` first (Keyway's own layout), else the entry itself;
 * either may export `definition` or a default.
 */
export async function loadPackageDefinition(
  type: string,
  from: readonly string[],
  where: string,
): Promise<BackendDefinition<unknown>> {
  const specifiers =
    type.split("/").length === (type.startsWith("@") ? 2 : 1) ? [`${type}/definition`, type] : [type];
  let found: Record<string, unknown> | undefined;
  for (const specifier of specifiers) {
    const url = locate(specifier, from);
    if (url === undefined) continue;
    try {
      found = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new ConfigurationError(`${where}: backend package '${type}' failed to load.`, { cause: error });
    }
    if (isDefinition(found.definition) || isDefinition(found.default)) break;
  }
  if (found === undefined)
    throw new ConfigurationError(
      `${where}: backend package '${type}' is not installed where keyway.yaml is, nor in the working directory: npm install ${packageOf(type)}.`,
    );
  const definition = isDefinition(found.definition) ? found.definition : found.default;
  if (!isDefinition(definition))
    throw new ConfigurationError(
      `${where}: backend package '${type}' exports no backend definition (export const definition = { type, optionsSchema, create }).`,
    );
  return definition;
}

/** The file URL `specifier` resolves to from the first folder that has it, else the bare specifier if Node finds it from here. */
function locate(specifier: string, from: readonly string[]): string | undefined {
  for (const dir of [...from, undefined]) {
    try {
      const require = createRequire(dir === undefined ? import.meta.url : path.join(dir, "keyway.yaml"));
      return pathToFileURL(require.resolve(specifier)).href;
    } catch {
      // Not there (MODULE_NOT_FOUND), or not an entry that package exports: the next folder.
    }
  }
  return undefined;
}

/** `@acme/foo/definition` → `@acme/foo`; `foo/definition` → `foo`. */
function packageOf(type: string): string {
  const parts = type.split("/");
  return parts.slice(0, type.startsWith("@") ? 2 : 1).join("/");
}

function isDefinition(value: unknown): value is BackendDefinition<unknown> {
  if (typeof value !== "object" || value === null) return false;
  const { type, optionsSchema, create } = value as Partial<BackendDefinition<unknown>>;
  return (
    typeof type === "string" &&
    typeof create === "function" &&
    typeof (optionsSchema as { safeParse?: unknown } | undefined)?.safeParse === "function"
  );
}
