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

/**
 * Characters the scanner has examined, over the process: the linearity test's measure (work, not
 * time). Every search adds the span it covered, every loop one per step.
 */
let work = 0;
export function templateScanWork(): number {
  return work;
}

/** Scans `text`; throws {@link TemplateError} with line and column for a malformed `secret(` call. */
export function scanTemplate(text: string): Tag[] {
  try {
    return scan(new Source(text));
  } finally {
    lines = undefined; // do not keep the template alive
  }
}

/**
 * A text and the answers the scan asks of it again and again, each computed once: where a string
 * literal starting here ends, where the next `}}` or `secret(` is. The scan asks them from
 * positions that only move forward, so each character is looked at a bounded number of times and
 * the scan is linear, whatever the text (many tags without a call, unclosed tags, stray quotes).
 */
class Source {
  readonly #ends: Partial<Record<string, Int32Array>> = {};
  /** Characters read by direct string scans so far (see stringEnd). */
  #direct = 0;
  readonly #next = new Map<string, { from: number; at: number }>();
  #call: { from: number; match: RegExpExecArray | null } | undefined;
  readonly #calls = /\bsecret\s*\(/g;

  /** findCalls' working array, reused for every tag. */
  readonly scratch: SecretCall[] = [];

  constructor(readonly text: string) {}

  /** Offset just after the string literal whose quote is at `start`, or -1 if it is never closed. */
  stringEnd(start: number): number {
    const { text } = this;
    const quote = text[start] as string;
    let ends = this.#ends[quote];
    if (ends === undefined && this.#direct <= text.length) {
      // Most texts have a few short strings: read them directly, without allocating a table.
      // Once that reading passes the text's length (stray quotes), the table takes over.
      for (let i = start + 1; i < text.length; i++) {
        this.#direct++;
        work++;
        if (text[i] === "\\") i++;
        else if (text[i] === quote) return i + 1;
      }
      return -1;
    }
    ends ??= this.#stringEnds(quote);
    this.#ends[quote] = ends;
    return ends[start + 1] as number;
  }

  /**
   * For every offset, where a string body read from there ends (after its closing `quote`, a
   * backslash escaping the next character), or -1: one pass from the end, built once direct
   * reading has passed the text's length.
   */
  #stringEnds(quote: string): Int32Array {
    const { text } = this;
    const q = quote.charCodeAt(0);
    const ends = new Int32Array(text.length + 2).fill(-1);
    for (let i = text.length - 1; i >= 0; i--) {
      const c = text.charCodeAt(i);
      ends[i] = c === BACKSLASH ? (ends[i + 2] as number) : c === q ? i + 1 : (ends[i + 1] as number);
    }
    work += text.length;
    return ends;
  }

  /** `text.indexOf(needle, from)`, remembered: a later `from` before the answer has the same one. */
  next(needle: string, from: number): number {
    const known = this.#next.get(needle);
    if (known && from >= known.from && (known.at === -1 || from <= known.at)) return known.at;
    const at = this.text.indexOf(needle, from);
    work += (at === -1 ? this.text.length : at) - from;
    this.#next.set(needle, { from, at });
    return at;
  }

  /** The first `secret(` at or after `from`, remembered the same way (the search is not bounded by a tag). */
  nextCall(from: number): RegExpExecArray | null {
    const known = this.#call;
    if (known && from >= known.from && (known.match === null || from <= known.match.index))
      return known.match;
    this.#calls.lastIndex = from;
    const match = this.#calls.exec(this.text);
    work += (match ? match.index + match[0].length : this.text.length) - from;
    this.#call = { from, match };
    return match;
  }
}

const BACKSLASH = 0x5c;
const ENVS = /^envs\.([A-Za-z_][A-Za-z0-9_]*)$/;

function scan(source: Source): Tag[] {
  const { text } = source;
  const tags: Tag[] = [];
  const findClose = closeFinder(source);
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    work += (open === -1 ? text.length : open + 1) - i;
    if (open === -1 || open + 1 >= text.length) break;
    const next = text[open + 1];
    if (next === "#") {
      const close = source.next("#}", open + 2);
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
    const calls = findCalls(source, open + 2, close);
    const tag: { -readonly [K in keyof Tag]: Tag[K] } = {
      kind: next === "{" ? "output" : "statement",
      start: open,
      end: close + 2,
      calls,
    };
    if (next === "{") {
      // The expression is only read when it can be a lone call or `envs.name` (fewer strings).
      const only = calls.length === 1 ? calls[0] : undefined;
      const expression =
        only?.kind === "static" || calls.length === 0 ? text.slice(open + 2, close).trim() : "";
      work += close - open;
      if (only?.kind === "static" && only.source === expression) tag.sole = only;
      const envs = calls.length === 0 ? ENVS.exec(expression)?.[1] : undefined;
      if (envs !== undefined) tag.envs = envs;
    }
    tags.push(tag);
    i = close + 2;
  }
  return tags;
}

/**
 * The closing delimiter's offset from `from`, skipping string literals (a `}}` inside quotes does
 * not close), or -1; a string that is never closed leaves the first closer after `from`. Scans
 * that find nothing are remembered: a scan that reaches a position another scan passed outside
 * any string ends the same way, so it stops there. Without this, every unclosed `{{` rescanned
 * the rest of the text: 200 KB of `{{` took minutes (found by the reliability suite). Scans that
 * find a close need no memory: the next tag starts after it.
 */
function closeFinder(source: Source): (from: number, closer: "}}" | "%}") => number {
  const { text } = source;
  // Per closer: the positions known to end without one, and a buffer for the current scan's
  // positions (a scan visits each at most once, so it fits), allocated on first use.
  const memo: Partial<Record<string, { dead: Uint8Array; visited: Int32Array }>> = {};
  return (from, closer) => {
    let state = memo[closer];
    if (state === undefined) {
      state = { dead: new Uint8Array(text.length + 1), visited: new Int32Array(text.length + 1) };
      memo[closer] = state;
    }
    const { dead, visited } = state;
    let count = 0;
    let found = -1;
    for (let i = from; i < text.length; i++) {
      work++;
      if (dead[i] === 1) break;
      visited[count++] = i;
      const c = text[i];
      if (c === "'" || c === '"') {
        const end = source.stringEnd(i);
        if (end === -1) {
          found = source.next(closer, from);
          break;
        }
        i = end - 1;
      } else if (c === closer[0] && text[i + 1] === closer[1]) {
        found = i;
        break;
      }
    }
    if (found === -1) for (let k = 0; k < count; k++) dead[visited[k] as number] = 1;
    return found;
  };
}

/** The calls of a tag without any: one shared, frozen array. */
const NO_CALLS: readonly SecretCall[] = Object.freeze([]);

function findCalls(source: Source, start: number, end: number): readonly SecretCall[] {
  const { text } = source;
  // Collected in the source's scratch array and copied at their exact count: a pushed-to array
  // reserves room for 17, and a large template keeps one per tag until it is rendered.
  const calls = source.scratch;
  calls.length = 0;
  // A position known to be outside any string literal: each match is checked from there, not from
  // the tag's start, so a tag with many calls is scanned once (not once per call).
  let outside = start;
  let from = start;
  for (let m = source.nextCall(from); m && m.index < end; m = source.nextCall(from)) {
    const string = stringAround(source, outside, m.index);
    if (string !== undefined) {
      if (string.end === -1) break; // an unterminated string runs to the end: no call after it
      outside = string.end;
      from = string.end;
      continue;
    }
    outside = m.index;
    from = m.index + m[0].length;
    if (/[.\w]/.test(text[m.index - 1] ?? "")) continue;
    const call = parseCall(source, m.index, m.index + m[0].length, end);
    calls.push(call);
    from = call.end;
    outside = call.end;
  }
  return calls.length === 0 ? NO_CALLS : calls.slice();
}

/** The string literal (start, and end or -1) that `offset` lies in, scanning from `from` (outside any). */
function stringAround(
  source: Source,
  from: number,
  offset: number,
): { start: number; end: number } | undefined {
  const { text } = source;
  for (let i = from; i < offset; i++) {
    work++;
    if (text[i] === "'" || text[i] === '"') {
      const end = source.stringEnd(i);
      if (end === -1 || end > offset) return { start: i, end };
      i = end - 1;
    }
  }
  return undefined;
}

function parseCall(source: Source, start: number, argsStart: number, limit: number): SecretCall {
  const { text } = source;
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
    const argument = readArgument(source, i, limit, fail);
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
  source: Source,
  at: number,
  limit: number,
  fail: (at: number, why: string) => never,
): { value?: string | boolean; end: number } {
  const { text } = source;
  const c = text[at];
  if (c === "'" || c === '"') {
    const end = source.stringEnd(at);
    if (end === -1 || end > limit) fail(at, "a string is not closed");
    return { value: unescapeLiteral(text.slice(at + 1, end - 1)), end };
  }
  BOOLEAN.lastIndex = at;
  const found = BOOLEAN.exec(text);
  const bool = found && found.index + found[0].length <= limit ? found : null;
  if (bool) return { value: bool[1] === "true", end: at + (bool[0]?.length ?? 0) };
  let depth = 0;
  for (let i = at; i < limit; i++) {
    work++;
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const end = source.stringEnd(i);
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
  if (!body.includes("\\")) return body;
  return body.replace(/\\(.)/gs, (_, c: string) => ({ n: "\n", t: "\t", r: "\r" })[c] ?? c);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i] ?? "")) {
    work++;
    i++;
  }
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

// The engine literals render writes in modes pebble and jinja (kept exported from here).
export { engineLiteral } from "./engine-literal.js";
