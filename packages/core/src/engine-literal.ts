/**
 * String literals for the executor's template engine (Pebble for Kestra, Jinja2): what render's
 * modes pebble and jinja write in place of a `secret()` call, so a value is data, never code.
 */

/**
 * A string expression for the executor's engine that evaluates to exactly `value`, so a value is
 * data, never template code. Checked against the real engines (test/conformance/).
 */
export function engineLiteral(value: string, mode: "pebble" | "jinja"): string {
  return mode === "jinja" ? jinjaLiteral(value) : pebbleLiteral(value);
}

/**
 * Jinja2 reads a string literal as Python does (`unicode-escape`) after turning every CR, CRLF and
 * LF of the template into LF, so backslash, quote and the three line-break characters are escaped.
 */
function jinjaLiteral(value: string): string {
  const escapes: Record<string, string> = { "\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
  return `'${value.replace(/[\\'\n\r\t]/g, (c) => escapes[c] as string)}'`;
}

/** One backslash: a Pebble literal cannot end with one (below), so it is the first of two. */
const PEBBLE_BACKSLASH = "('\\\\'|first)";

/**
 * Pebble's lexer (io.pebbletemplates 4.x, LexerImpl) reads `'…'` with `\` taking the next
 * character whatever it is, then removes only the backslash of each `\'`: every other backslash
 * stays as written (`'\\'` is two characters). So a quote is written `\'` and backslashes as they
 * are, except where the lexer would pair them differently from the value: the last backslash of
 * an odd run right before a quote or at the end, which becomes `('\\'|first)` joined with `~`.
 * Kestra also cuts `{% raw %}…{% endraw %}` out of a whole property before Pebble reads it, so
 * `{%` is split across two literals too (Pebble's single quotes have no `#{}` interpolation).
 */
function pebbleLiteral(value: string): string {
  const parts: string[] = [];
  let literal = "";
  let run = 0; // backslashes just before position i
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    const next = value[i + 1];
    if (c === "\\") {
      run++;
      if (run % 2 === 1 && (next === "'" || next === undefined)) {
        parts.push(`'${literal}'`, PEBBLE_BACKSLASH);
        literal = "";
        run = 0;
      } else literal += c;
      continue;
    }
    run = 0;
    literal += c === "'" ? "\\'" : c;
    if (c === "{" && next === "%") {
      parts.push(`'${literal}'`);
      literal = "";
    }
  }
  parts.push(`'${literal}'`);
  const joined = parts.filter((part) => part !== "''");
  if (joined.length <= 1) return joined[0] ?? "''";
  // Parenthesized: the literal stands where `secret(…)` stood, maybe before a filter or a `.value`.
  return `(${joined.join(" ~ ")})`;
}
