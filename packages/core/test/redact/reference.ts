/**
 * The naive reference the engine is checked against: `indexOf` for every pattern, a regular
 * expression for word characters, sort and merge. Slow and obviously right.
 */

const WORD = /^[\p{L}\p{N}\p{M}_]$/u;

/** The characters (code points) of `text`, with the index each starts at. */
function characters(text: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  let i = 0;
  for (const c of text) {
    out.push([i, c]);
    i += c.length;
  }
  return out;
}

/** Whether the character ending right before `start`, or starting at `end`, is a word character. */
function wordAround(text: string, start: number, end: number): boolean {
  return characters(text).some(([at, c]) => (at + c.length === start || at === end) && WORD.test(c));
}

/** Merged masked ranges `[start, end]` of `patterns` in `text`, for occurrences starting at `from` or later. */
export function referenceRanges(
  patterns: Iterable<string>,
  text: string,
  anywhereLength: number,
  from = 0,
): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  for (const pattern of patterns) {
    for (let i = text.indexOf(pattern, from); i >= 0; i = text.indexOf(pattern, i + 1)) {
      const end = i + pattern.length;
      if (pattern.length < anywhereLength && wordAround(text, i, end)) continue;
      found.push([i, end]);
    }
  }
  found.sort((a, b) => a[0] - b[0]);
  const merged: Array<[number, number]> = [];
  for (const [start, end] of found) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

export function referenceRedact(
  patterns: Iterable<string>,
  text: string,
  anywhereLength: number,
  mask = "******",
): string {
  let out = "";
  let last = 0;
  for (const [start, end] of referenceRanges(patterns, text, anywhereLength)) {
    out += text.slice(last, start) + mask;
    last = end;
  }
  return out + text.slice(last);
}

/** The flat `[s0, e0, s1, e1, …]` form `MatchEngine.ranges` returns. */
export function flat(ranges: Array<[number, number]>): number[] {
  return ranges.flat();
}
