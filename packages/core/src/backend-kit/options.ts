/**
 * Options checking for backend factories: the backend's zod schema (anything with `safeParse`) is
 * its one validator; a failure becomes one ConfigurationError listing each problem by its path,
 * never echoing a value (the option may be a credential).
 * (Core modules come from ../internal.js, an entry of the bundle, for one copy of every class.)
 */
import type { OptionsIssue, OptionsSchema } from "../internal.js";
import { ConfigurationError } from "../internal.js";

/**
 * Parses `input` with `schema` and returns its output (defaults applied).
 * @throws ConfigurationError naming every wrong option (`'credentials.roleArn': …`) and the backend.
 */
export function parseOptions<O>(schema: OptionsSchema<O>, input: unknown, backend: string): O {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 10).map(describeIssue).join("; ");
  throw new ConfigurationError(`Invalid options for backend '${backend}': ${problems}.`, { backend });
}

function describeIssue(issue: OptionsIssue): string {
  // zod reports an unknown key on its parent, with the key in `keys`.
  const keys = (issue as { keys?: readonly string[] }).keys ?? [];
  const path = [...issue.path, ...keys].map(String).join(".");
  return path === "" ? issue.message : `'${path}': ${issue.message}`;
}

const warned = new Set<string>();

/**
 * Reads a renamed option: `options[replacement]`, else `options[old]` with a one-time
 * deprecation warning (`process.emitWarning`, type DeprecationWarning, with `code`), so old
 * configurations keep working while they are updated. Returns the options with only the new name.
 * @throws ConfigurationError when both names are given
 */
export function renamedOption<T extends object>(
  options: T,
  old: string,
  replacement: string,
  code: string,
): T {
  const record = options as Record<string, unknown>;
  if (record[old] === undefined) return options;
  if (record[replacement] !== undefined)
    throw new ConfigurationError(
      `Options '${old}' and '${replacement}' are the same option; give only '${replacement}'.`,
    );
  if (!warned.has(code)) {
    warned.add(code);
    process.emitWarning(`Keyway: option '${old}' is deprecated; use '${replacement}'.`, {
      type: "DeprecationWarning",
      code,
    });
  }
  const { [old]: value, ...rest } = record;
  return { ...rest, [replacement]: value } as T;
}
