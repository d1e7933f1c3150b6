/**
 * The `{{ secret(...) }}` scanner. It finds every `secret()` call and `envs.name` inside
 * `{{ … }}` (and `{% … %}`), skips `{# … #}` comments, and leaves everything else alone, so the
 * executor's own template engine sees the text byte for byte.
 */
import { TemplateError } from "./errors.js";

/** One `secret(...)` call found in a template. */
export interface SecretCall {
  /** `static` when every argument is a literal; `dynamic` calls are left as they are. */
  readonly kind: "static" | "dynamic";
  readonly key?: string;
  readonly namespace?: string;
  readonly subkey?: string;
  readonly errorOnMissing: boolean;
  readonly full: boolean;
  /** Offsets of the call `secret(…)` in the text. */
  readonly start: number;
  readonly end: number;
  /** 1-based position of the call, for messages. */
  readonly line: number;
  readonly column: number;
  /** The call's source text. */
  readonly source: string;
}

/** One `{{ … }}` or `{% … %}` tag. */
export interface Tag {
  readonly kind: "output" | "statement";
  /** Offsets of the whole tag, delimiters included. */
  readonly start: number;
  readonly end: number;
  readonly calls: readonly SecretCall[];
  /** Set when the tag's whole expression is exactly one static `secret()` call. */
  readonly sole?: SecretCall;
  /** Set when the tag's whole expression is exactly `envs.name`. */
  readonly envs?: string;
}

const NAMED = new Set(["key", "namespace", "subkey", "errorOnMissing", "full"]);
// Sticky (`y`): matched at an offset, without slicing the rest of the text for every argument.
const NAMED_ARGUMENT = /([A-Za-z_]\w*)\s*=(?!=)\s*/y;
const BOOLEAN = /(true|false)\b/y;

/** Scans `text`; throws {@link TemplateError} with line and column for a malformed `secret(` call. */
export function scanTemplate(text: string): Tag[] {
  try {
    return scan(text);
  } finally {
    lines = undefined; // do not keep the template alive
  }
}

function scan(text: string): Tag[] {
  const tags: Tag[] = [];
  const findClose = closeFinder(text);
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    if (open === -1 || open + 1 >= text.length) break;
    const next = text[open + 1];
    if (next === "#") {
      const close = text.indexOf("#}", open + 2);
      i = close === -1 ? text.length : close + 2;
      continue;
    }
    if (next !== "{" && next !== "%") {
      i = open + 1;
      continue;
    }
    const closer = next === "{" ? "}}" : "%}";
    const close = findClose(open + 2, closer);
    if (close === -1) {
      i = open + 2;
      continue;
    }
    const inner = { start: open + 2, end: close };
    const calls = findCalls(text, inner.start, inner.end);
    const expression = text.slice(inner.start, inner.end).trim();
    const sole =
      calls.length === 1 && calls[0]?.kind === "static" && calls[0].source === expression
        ? calls[0]
        : undefined;
    const envs = /^envs\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(expression)?.[1];
    tags.push({
      kind: next === "{" ? "output" : "statement",
      start: open,
      end: close + 2,
      calls,
      ...(sole && next === "{" ? { sole } : {}),
      ...(envs !== undefined && next === "{" ? { envs } : {}),
    });
    i = close + 2;
  }
  return tags;
}

/**
 * The closing delimiter's offset from `from`, skipping string literals (a `}}` inside quotes does
 * not close), or -1. Scans that find nothing are remembered: a scan that reaches a position another
 * scan passed outside any string ends the same way, so it stops there. Without this, every unclosed
 * `{{` rescanned the rest of the text: 200 KB of `{{` took minutes (found by the reliability suite).
 */
function closeFinder(text: string): (from: number, closer: "}}" | "%}") => number {
  const noClose: Partial<Record<string, Uint8Array>> = {};
  return (from, closer) => {
    const dead = noClose[closer] ?? new Uint8Array(text.length + 1);
    noClose[closer] = dead;
    const visited: number[] = [];
    let found = -1;
    for (let i = from; i < text.length; i++) {
      if (dead[i] === 1) break;
      visited.push(i);
      const c = text[i];
      if (c === "'" || c === '"') {
        const end = skipString(text, i);
        if (end === -1) {
          found = text.indexOf(closer, from);
          break;
        }
        i = end - 1;
      } else if (text.startsWith(closer, i)) {
        found = i;
        break;
      }
    }
    if (found === -1) for (const i of visited) dead[i] = 1;
    return found;
  };
}

/** Offset just after the string literal starting at `start`, or -1 if unterminated. */
function skipString(text: string, start: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i + 1;
  }
  return -1;
}

function findCalls(text: string, start: number, end: number): SecretCall[] {
  const calls: SecretCall[] = [];
  const pattern = /\bsecret\s*\(/g;
  pattern.lastIndex = start;
  // A position known to be outside any string literal: each match is checked from there, not from
  // the tag's start, so a tag with many calls is scanned once (not once per call).
  let outside = start;
  for (let m = pattern.exec(text); m && m.index < end; m = pattern.exec(text)) {
    const string = stringAround(text, outside, m.index);
    if (string !== undefined) {
      if (string.end === -1) break; // an unterminated string runs to the end: no call after it
      outside = string.end;
      pattern.lastIndex = string.end;
      continue;
    }
    outside = m.index;
    if (/[.\w]/.test(text[m.index - 1] ?? "")) continue;
    const call = parseCall(text, m.index, m.index + m[0].length, end);
    calls.push(call);
    pattern.lastIndex = call.end;
    outside = call.end;
  }
  return calls;
}

/** The string literal (start, and end or -1) that `offset` lies in, scanning from `from` (outside any). */
function stringAround(
  text: string,
  from: number,
  offset: number,
): { start: number; end: number } | undefined {
  for (let i = from; i < offset; i++) {
    if (text[i] === "'" || text[i] === '"') {
      const end = skipString(text, i);
      if (end === -1 || end > offset) return { start: i, end };
      i = end - 1;
    }
  }
  return undefined;
}

function parseCall(text: string, start: number, argsStart: number, limit: number): SecretCall {
  const fail = (at: number, why: string): never => {
    const { line, column } = position(text, at);
    throw new TemplateError(`Malformed secret() call at line ${line}, column ${column}: ${why}.`);
  };
  const literals: Record<string, string | boolean> = {};
  let positional = 0;
  let dynamic = false;
  let i = skipSpace(text, argsStart);
  if (text[i] === ")") fail(start, "a key is required, e.g. secret('API_TOKEN')");
  while (i < limit) {
    let name: string | undefined;
    NAMED_ARGUMENT.lastIndex = i;
    const match = NAMED_ARGUMENT.exec(text);
    const named = match && match.index + match[0].length <= limit ? match : null;
    if (named) {
      name = named[1];
      if (!NAMED.has(name ?? "")) fail(i, `unknown argument '${name}'`);
      i += named[0].length;
    } else if (positional++ > 0) {
      fail(i, "only the key may be given without a name");
    }
    const argument = readArgument(text, i, limit, fail);
    if (argument.value === undefined) dynamic = true;
    else literals[name ?? "key"] = argument.value;
    i = skipSpace(text, argument.end);
    if (text[i] === ")") {
      const end = i + 1;
      return buildCall(text, start, end, literals, dynamic, fail);
    }
    if (text[i] !== ",") fail(i, "expected ',' or ')'");
    i = skipSpace(text, i + 1);
  }
  return fail(start, "it is not closed with ')' before the end of the tag");
}

/** Reads one argument: a string or boolean literal, or (dynamic) anything up to a top-level `,` or `)`. */
function readArgument(
  text: string,
  at: number,
  limit: number,
  fail: (at: number, why: string) => never,
): { value?: string | boolean; end: number } {
  const c = text[at];
  if (c === "'" || c === '"') {
    const end = skipString(text, at);
    if (end === -1 || end > limit) fail(at, "a string is not closed");
    return { value: unescapeLiteral(text.slice(at + 1, end - 1)), end };
  }
  BOOLEAN.lastIndex = at;
  const found = BOOLEAN.exec(text);
  const bool = found && found.index + found[0].length <= limit ? found : null;
  if (bool) return { value: bool[1] === "true", end: at + (bool[0]?.length ?? 0) };
  let depth = 0;
  for (let i = at; i < limit; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = skipString(text, i);
      if (end === -1) fail(i, "a string is not closed");
      i = end - 1;
    } else if (ch === "(" || ch === "[" || ch === "{") depth++;
    else if ((ch === ")" || ch === "]" || ch === "}") && depth > 0) depth--;
    else if ((ch === "," || ch === ")") && depth === 0) {
      if (i === at) fail(at, "an argument is empty");
      return { end: i };
    }
  }
  return fail(at, "it is not closed with ')' before the end of the tag");
}

function buildCall(
  text: string,
  start: number,
  end: number,
  literals: Record<string, string | boolean>,
  dynamic: boolean,
  fail: (at: number, why: string) => never,
): SecretCall {
  const { line, column } = position(text, start);
  const str = (name: string) => {
    const v = literals[name];
    if (v !== undefined && typeof v !== "string") fail(start, `'${name}' must be a string`);
    return v as string | undefined;
  };
  const bool = (name: string, fallback: boolean) => {
    const v = literals[name];
    if (v !== undefined && typeof v !== "boolean") fail(start, `'${name}' must be true or false`);
    return (v as boolean | undefined) ?? fallback;
  };
  const call = {
    kind: dynamic ? ("dynamic" as const) : ("static" as const),
    key: str("key"),
    namespace: str("namespace"),
    subkey: str("subkey"),
    errorOnMissing: bool("errorOnMissing", true),
    full: bool("full", false),
    start,
    end,
    line,
    column,
    source: text.slice(start, end),
  };
  if (call.full && call.subkey !== undefined) fail(start, "'full' cannot be used together with 'subkey'");
  if (!dynamic && call.key === undefined) fail(start, "a key is required, e.g. secret('API_TOKEN')");
  return call;
}

function unescapeLiteral(body: string): string {
  return body.replace(/\\(.)/gs, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" })[c] ?? c);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i] ?? "")) i++;
  return i;
}

/** The line starts of the last text asked about: every call of a template asks about the same one. */
let lines: { text: string; starts: number[] } | undefined;

/** 1-based line and column of an offset. */
export function position(text: string, offset: number): { line: number; column: number } {
  if (lines?.text !== text) {
    const starts = [0];
    for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
    lines = { text, starts };
  }
  // The last line start at or before `offset` (binary search).
  const { starts } = lines;
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((starts[mid] as number) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (starts[low] as number) + 1 };
}

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
