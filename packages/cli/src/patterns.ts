/**
 * Environment variable names and `--keep-env` patterns: a name, or a name with `*` standing for
 * any run of characters (`SECRET_*`, `LC_*`). Patterns are only ever this, so a small matcher
 * serves better than a path glob library (whose `*` stops at `/` and whose other syntax would
 * have to be refused anyway).
 */

/** A portable variable name (POSIX): letters, digits and `_`, not starting with a digit. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A `--keep-env` pattern: a name in which `*` may stand for any characters. */
export const NAME_PATTERN = /^[A-Za-z0-9_*]+$/;

/** A test for names matching any of `patterns` (`*` matches any run of characters; the rest literally). */
export function matcher(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((pattern) =>
    pattern
      .split("*")
      .map((part) => part.replace(/[\\^$.|?+()[\]{}-]/g, "\\$&"))
      .join(".*"),
  );
  const regex = new RegExp(`^(?:${alternatives.join("|")})$`, "s");
  return (name) => regex.test(name);
}
