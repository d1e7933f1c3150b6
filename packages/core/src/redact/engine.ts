/**
 * The matcher engine: finds every occurrence of many literal patterns in a text, at a cost that
 * does not grow with the number of patterns.
 *
 * Why this design (`npm run bench`: 32 MiB of generated logs, 1,000 secrets, about 10,000
 * patterns: about 2× the speed of a bare `charCodeAt` loop over the text, about 35× the speed of
 * modern-ahocorasick; a stream of 64 KiB Buffers about as fast as one string):
 * - Aho–Corasick reads every character and walks an automaton far larger than the CPU cache;
 *   `indexOf` per pattern costs patterns × text. Neither keeps 1,000 secrets as cheap as 1.
 * - Patterns of at least `anywhereLength` (≥ 8) characters use a Wu–Manber style sampled q-gram
 *   filter. With `m` the shortest such pattern, the text is sampled every `stride = m − 4 + 1`
 *   characters (at most {@link MAX_STRIDE}); each pattern puts the 4-grams at its first `stride`
 *   offsets in a bitmap. Every occurrence covers exactly one sample at one of those offsets, so
 *   none is missed, and most samples cost 4 `charCodeAt` and one bit test. The stride, not the
 *   pattern count, sets the speed.
 * - Hex and base64 in logs hit the 4-grams of thousands of hex and base64 forms, so a 4-gram hit
 *   is checked against a second bitmap of 8-grams (that 4-gram and the next) before going further.
 * - Past both, the `stride` candidate starts behind the sample are tried: the 4 characters at each
 *   start, if a third bitmap says some pattern starts so, select a "family" (the patterns sharing
 *   that prefix, longest first), verified with `startsWith`.
 * - Shorter patterns match only as whole words; they use the same filter over 2-grams, in a second
 *   pass that runs only while such patterns exist.
 * - The filter reads bytes from a `Uint8Array`, never `charCodeAt`: indexing a typed array is about
 *   1.5× faster, and a stream's Buffers are scanned as they arrive, with no UTF-8 decoding (which
 *   alone cost as much as redacting the decoded text). A string is first written into a reusable
 *   buffer one byte per UTF-16 unit (its low byte, a `memcpy` for most strings); patterns are
 *   hashed from the same projection, so none is missed, and every candidate is verified on the
 *   string itself.
 */
import { Buffer } from "node:buffer";

/** Longest sampling stride. A fixed cap keeps 1 secret and 1,000 secrets at the same speed. */
export const MAX_STRIDE = 8;
/** Bitmap bits per (pattern, offset) entry, in each of the two bitmaps. */
const BITS_PER_ENTRY = 16;
const MIN_BITMAP_BITS = 1 << 12;
/** Family keys are masked to 30 bits so they stay small integers (no heap numbers in the Map). */
const SMALL = 0x3fffffff;
const GOLDEN = 0x9e3779b1;
/** Second-stage key of a pattern offset too close to the pattern's end for a following 4-gram. */
const NO_NEXT = 0x2545f491;

/**
 * How an engine reads text: `utf16` scans JS strings (offsets are string indexes); `utf8` scans
 * UTF-8 bytes (offsets are byte offsets), and holds each pattern as its UTF-8 bytes.
 */
export type Encoding = "utf16" | "utf8";

/** Text to scan: a string for a `utf16` engine, bytes for a `utf8` one. */
export type Subject = string | Uint8Array;

/**
 * The patterns sharing their first characters, longest first. Most families have one pattern,
 * kept as the bare string: an object and two arrays per pattern would be most of the memory.
 */
type Family = string | string[];

/**
 * Length of the longest pattern of `family` at `p` (whole word when `word`), or 0. With `openEnd`
 * the text may continue (a stream), so a word ending where the text ends is not decided yet.
 */
function longestAt(family: Family, subject: Subject, p: number, word: boolean, openEnd = false): number {
  if (typeof family === "string") return fitsAt(family, subject, p, word, openEnd) ? family.length : 0;
  for (const pattern of family) if (fitsAt(pattern, subject, p, word, openEnd)) return pattern.length;
  return 0;
}

function fitsAt(pattern: string, subject: Subject, p: number, word: boolean, openEnd: boolean): boolean {
  if (word) {
    const next = codePointAt(subject, p + pattern.length);
    if (next === INCOMPLETE ? openEnd : isWord(next)) return false;
  }
  return startsAt(subject, pattern, p);
}

/** 4-gram key: bytes at byte offsets, so the key of `i − 1` rolls from the key of `i`. */
function key4(units: Uint8Array, i: number): number {
  return (
    (units[i] as number) ^
    ((units[i + 1] as number) << 8) ^
    ((units[i + 2] as number) << 16) ^
    ((units[i + 3] as number) << 24)
  );
}

function key2(units: Uint8Array, i: number): number {
  return (units[i] as number) ^ ((units[i + 1] as number) << 8);
}

/**
 * A string is projected and scanned this many units at a time, into one reused buffer: projecting
 * a long string at once would fault in a fresh buffer as large as the text (17 ms for 32 MiB,
 * half the scan), and a small one stays in the CPU cache.
 */
export const WINDOW = 1 << 16;
/** Units of text before a window's first start: a character (two UTF-16 units, four UTF-8 bytes). */
const CONTEXT = 4;
let scratch = Buffer.allocUnsafe(2 * WINDOW);

/**
 * One byte per unit of `subject`: bytes as they are; a string's UTF-16 units truncated to their
 * low byte (Node's `latin1` writer; `engine.test.ts` checks it for all 65,536 units). Valid until
 * the next call.
 */
function unitsOf(subject: Subject): Uint8Array {
  if (typeof subject !== "string") return subject;
  if (subject.length > scratch.length) scratch = Buffer.allocUnsafe(subject.length);
  scratch.write(subject, 0, subject.length, "latin1");
  return scratch;
}

/** Whether `pattern`, as the engine holds it, occurs at `p` in `subject`. */
function startsAt(subject: Subject, pattern: string, p: number): boolean {
  if (typeof subject === "string") return subject.startsWith(pattern, p);
  if (p + pattern.length > subject.length) return false;
  for (let i = 0; i < pattern.length; i++) if (subject[p + i] !== pattern.charCodeAt(i)) return false;
  return true;
}

function pairHash(k: number, next: number): number {
  return Math.imul(next ^ Math.imul(k, 0xcc9e2d51), GOLDEN);
}

/**
 * The units of a pattern the filter hashes: the 4-grams at its first {@link MAX_STRIDE} offsets
 * and the 4-gram after each, so at most `MAX_STRIDE + 7` units (a 16-unit prefix keeps every
 * `o + 8 <= length` test the same). Projecting only the prefix keeps registering a multi-KB form
 * (a PEM key's hex, say) from copying all of it, several times per form.
 */
const HASHED_PREFIX = MAX_STRIDE + 8;

/** A pattern's hashed units, as {@link unitsOf} gives them for text (a copy: it outlives the scratch). */
function patternUnits(pattern: string): Uint8Array {
  return Buffer.from(pattern.length > HASHED_PREFIX ? pattern.slice(0, HASHED_PREFIX) : pattern, "latin1");
}

function setBit(bits: Int32Array, h: number): void {
  bits[h >>> 5] = (bits[h >>> 5] ?? 0) | (1 << (h & 31));
}

const ASCII_WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) ASCII_WORD[c] = /[A-Za-z0-9_]/.test(String.fromCharCode(c)) ? 1 : 0;
const UNICODE_WORD = /[\p{L}\p{N}\p{M}]/u;

/** A word character, as `\w` plus Unicode letters, digits and marks; -1 (no character) is not one. */
function isWord(c: number): boolean {
  if (c < 128) return c >= 0 && ASCII_WORD[c] === 1;
  return UNICODE_WORD.test(String.fromCodePoint(c));
}

/** The text ends at or inside the character: not there yet, or (at the real end) none. */
const INCOMPLETE = -2;
const NONE = -1;

/**
 * The code point starting at `i`: `INCOMPLETE` when the text ends before it does, `NONE` for a
 * malformed UTF-8 sequence (a decoder makes it U+FFFD, which is not a word character either).
 */
function codePointAt(subject: Subject, i: number): number {
  if (i >= subject.length) return INCOMPLETE;
  if (typeof subject === "string") {
    const c = subject.codePointAt(i) as number;
    return c >= 0xd800 && c <= 0xdbff && i + 1 === subject.length ? INCOMPLETE : c;
  }
  const lead = subject[i] as number;
  if (lead < 0x80) return lead;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length === 0 || lead > 0xf4) return NONE;
  let c = lead & (0x7f >> length);
  for (let k = 1; k < length; k++) {
    if (i + k >= subject.length) return INCOMPLETE;
    const byte = subject[i + k] as number;
    if ((byte & 0xc0) !== 0x80) return NONE;
    c = (c << 6) | (byte & 0x3f);
  }
  return c;
}

/** The code point that ends right before `i` (`NONE` at the start or when malformed). */
function codePointBefore(subject: Subject, i: number): number {
  if (i <= 0) return NONE;
  if (typeof subject === "string") {
    const c = subject.charCodeAt(i - 1);
    const high = i >= 2 ? subject.charCodeAt(i - 2) : 0;
    return c >= 0xdc00 && c <= 0xdfff && high >= 0xd800 && high <= 0xdbff
      ? (subject.codePointAt(i - 2) as number)
      : c;
  }
  let start = i - 1;
  while (start > 0 && i - start < 4 && ((subject[start] as number) & 0xc0) === 0x80) start--;
  const c = codePointAt(subject, start);
  return c >= 0 && start + utf8Length(c) === i ? c : NONE;
}

function utf8Length(c: number): number {
  return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/** One filter: a bitmap of the q-grams at each pattern's first `stride` offsets, and the families. */
class Tier {
  readonly families = new Map<number, Family>();
  bits = new Int32Array(0);
  /**
   * Second stage of the 4-character tier: 8-grams (the 4-gram at an offset and the one after it,
   * or `NO_NEXT` near the end). Hex and base64 text hits many single 4-grams of the hex and
   * base64 forms of thousands of secrets; almost none of their 8-grams.
   */
  pairs = new Int32Array(0);
  /** The first q-gram of each pattern: most candidate starts are rejected here, not by a Map lookup. */
  starts = new Int32Array(0);
  /** `32 − log2(bitmap size)`: the bitmap slot is the top bits of a multiplicative hash. */
  shift = 32;
  startShift = 32;
  /** 0 while empty. Only decreases between rebuilds, so every pattern has bits for it. */
  stride = 0;
  /** Live patterns, entries set since the last rebuild, and entries of removed patterns. */
  count = 0;
  entries = 0;
  stale = 0;
  /** References beyond the first, for the few patterns that several values share. */
  readonly #moreRefs = new Map<string, number>();
  readonly #lengths = new Map<number, number>();
  minLength = 0;
  maxLength = 0;

  constructor(readonly block: 2 | 4) {}

  /** The family key of a pattern: its first q-gram. */
  key(units: Uint8Array): number {
    return (this.block === 4 ? key4(units, 0) : key2(units, 0)) & SMALL;
  }

  strideFor(length: number): number {
    return Math.min(length - this.block + 1, MAX_STRIDE);
  }

  add(pattern: string): void {
    const units = patternUnits(pattern);
    const k = this.key(units);
    const family = this.families.get(k);
    if (family === pattern || (Array.isArray(family) && family.includes(pattern))) {
      this.#moreRefs.set(pattern, (this.#moreRefs.get(pattern) ?? 0) + 1);
      return;
    }
    if (family === undefined) this.families.set(k, pattern);
    else {
      const list = typeof family === "string" ? [family] : family;
      let i = 0;
      while (i < list.length && (list[i]?.length ?? 0) >= pattern.length) i++;
      list.splice(i, 0, pattern);
      this.families.set(k, list);
    }
    this.count++;
    this.#countLength(pattern.length, 1);
    const stride = this.strideFor(pattern.length);
    if (this.stride === 0 || stride < this.stride) this.stride = stride;
    if ((this.entries + this.stride) * BITS_PER_ENTRY > this.bits.length * 32) this.rebuild();
    else this.#setBits(units);
  }

  /** Drops one reference; the bits stay until enough are stale to be worth a rebuild. */
  remove(pattern: string): void {
    const more = this.#moreRefs.get(pattern);
    if (more !== undefined) {
      if (more > 1) this.#moreRefs.set(pattern, more - 1);
      else this.#moreRefs.delete(pattern);
      return;
    }
    const k = this.key(patternUnits(pattern));
    const family = this.families.get(k);
    if (family === pattern) this.families.delete(k);
    else if (Array.isArray(family) && family.includes(pattern)) {
      const rest = family.filter((p) => p !== pattern);
      this.families.set(k, rest.length === 1 ? (rest[0] as string) : rest);
    } else return;
    this.count--;
    this.#countLength(pattern.length, -1);
    this.stale += this.stride;
    if (this.count === 0 || this.stale * 2 > this.entries) this.rebuild();
  }

  /** Recomputes the stride from the live patterns and sizes the bitmaps for them. */
  rebuild(): void {
    this.stride = this.count === 0 ? 0 : this.strideFor(this.minLength);
    let size = MIN_BITMAP_BITS;
    while (size < this.count * this.stride * BITS_PER_ENTRY * 2) size *= 2;
    this.bits = new Int32Array(this.count === 0 ? 0 : size / 32);
    this.pairs = new Int32Array(this.count === 0 || this.block !== 4 ? 0 : size / 32);
    this.shift = 32 - Math.log2(size);
    // One entry per pattern instead of one per offset: a bitmap `stride` times smaller, as dense.
    this.startShift = this.shift + Math.floor(Math.log2(Math.max(this.stride, 1)));
    this.starts = new Int32Array(this.bits.length >>> (this.startShift - this.shift));
    this.entries = 0;
    this.stale = 0;
    for (const family of this.families.values()) {
      if (typeof family === "string") this.#setBits(patternUnits(family));
      else for (const pattern of family) this.#setBits(patternUnits(pattern));
    }
  }

  #setBits(units: Uint8Array): void {
    for (let o = 0; o < this.stride; o++) {
      const k = this.block === 4 ? key4(units, o) : key2(units, o);
      setBit(this.bits, Math.imul(k, GOLDEN) >>> this.shift);
      if (o === 0) setBit(this.starts, Math.imul(k, GOLDEN) >>> this.startShift);
      if (this.block === 4) {
        const next = o + 8 <= units.length ? key4(units, o + 4) : NO_NEXT;
        setBit(this.pairs, pairHash(k, next) >>> this.shift);
      }
    }
    this.entries += this.stride;
  }

  #countLength(length: number, delta: number): void {
    const n = (this.#lengths.get(length) ?? 0) + delta;
    if (n > 0) this.#lengths.set(length, n);
    else this.#lengths.delete(length);
    if (delta > 0 && this.count === 1) {
      this.minLength = length;
      this.maxLength = length;
    } else if (delta > 0) {
      this.minLength = Math.min(this.minLength, length);
      this.maxLength = Math.max(this.maxLength, length);
    } else if (n === 0 && (length === this.minLength || length === this.maxLength)) {
      const lengths = [...this.#lengths.keys()];
      this.minLength = lengths.length === 0 ? 0 : Math.min(...lengths);
      this.maxLength = lengths.length === 0 ? 0 : Math.max(...lengths);
    }
  }
}

/** Options of {@link MatchEngine}. */
export interface MatchEngineOptions {
  /**
   * Patterns at least this many characters long match anywhere; shorter ones only as whole words
   * (the characters around the match are not letters, digits or `_`). At least 4.
   * @default 8
   */
  anywhereLength?: number | undefined;
  /**
   * What `ranges` scans: strings (`utf16`), or UTF-8 bytes (`utf8`, for streams).
   * @default "utf16"
   */
  encoding?: Encoding | undefined;
}

/**
 * A set of literal patterns (reference-counted, so a form shared by two secrets stays until both
 * are removed) and the search for all of them at once.
 */
export class MatchEngine {
  readonly anywhereLength: number;
  readonly encoding: Encoding;
  readonly #long: Tier;
  readonly #short: Tier;
  /** Per tier, the patterns' first bytes, for {@link MatchEngine.pendingFrom}; built when first asked. */
  readonly #heads = new Map<Tier, Int32Array>();

  constructor(options: MatchEngineOptions = {}) {
    const anywhere = options.anywhereLength ?? 8;
    if (!Number.isInteger(anywhere) || anywhere < 4)
      throw new RangeError("anywhereLength must be an integer >= 4");
    this.anywhereLength = anywhere;
    this.encoding = options.encoding ?? "utf16";
    this.#long = new Tier(4);
    this.#short = new Tier(2);
  }

  /** Adds one reference to `pattern`. Patterns shorter than `anywhereLength` match as whole words only. */
  add(pattern: string): void {
    if (pattern.length < 2) throw new RangeError("a pattern must be at least 2 characters long");
    this.#tier(pattern).add(this.#stored(pattern));
    this.#heads.clear();
  }

  /** Removes one reference to `pattern`; it stops matching when none is left. */
  remove(pattern: string): void {
    if (pattern.length >= 2) this.#tier(pattern).remove(this.#stored(pattern));
    this.#heads.clear();
  }

  /** Distinct patterns. */
  get size(): number {
    return this.#long.count + this.#short.count;
  }

  /** Length of the longest pattern, in units of the encoding (0 when empty). */
  get maxLength(): number {
    return Math.max(this.#long.maxLength, this.#short.maxLength);
  }

  /** Length of the longest whole-word pattern: a match needs the character past it to be decided. */
  get maxWordLength(): number {
    return this.#short.maxLength;
  }

  /**
   * The masked ranges of `subject`: every occurrence starting at or after `from`, overlapping and
   * adjacent ones merged, as a flat sorted list `[start0, end0, start1, end1, …]`. The character
   * before `from` still counts for a whole-word match. With `openEnd` (a stream that has not
   * ended) a whole word whose next character has not fully arrived is left for the next call:
   * merged into a neighbouring mask, it would otherwise be emitted before that character could
   * refute it.
   */
  ranges(subject: Subject, from = 0, openEnd = false): number[] {
    if ((typeof subject === "string") !== (this.encoding === "utf16"))
      throw new TypeError(
        `a ${this.encoding} engine scans ${this.encoding === "utf16" ? "strings" : "bytes"}`,
      );
    const found: number[] = [];
    if (this.size === 0) return found;
    if (typeof subject !== "string") {
      this.#scan(subject, subject, from, subject.length, openEnd, 0, found);
      return merge(found);
    }
    // Windows overlap by the longest pattern and a character, so a match starting in one is whole
    // in it and its word boundary decided; the next window finds the matches starting after it.
    const n = subject.length;
    for (let start = from; start < n; start += WINDOW) {
      const base = Math.max(0, start - CONTEXT);
      const limit = Math.min(n, start + WINDOW + this.maxLength + CONTEXT);
      const window = base === 0 && limit === n ? subject : subject.slice(base, limit);
      const more = limit < n || openEnd;
      this.#scan(window, unitsOf(window), start - base, start - base + WINDOW, more, base, found);
    }
    return merge(found);
  }

  /** `text` with each merged range replaced by `mask`; the same string when nothing matched. */
  redact(text: string, mask: string): string {
    if (this.size === 0) return text;
    const r = this.ranges(text);
    if (r.length === 0) return text;
    let out = "";
    let last = 0;
    for (let i = 0; i < r.length; i += 2) {
      out += text.slice(last, r[i]) + mask;
      last = r[i + 1] ?? last;
    }
    return out + text.slice(last);
  }

  /**
   * The first offset at or after `from` where an occurrence may begin that the text so far cannot
   * decide: `subject` from there is a proper prefix of a pattern, or a whole-word pattern whose
   * next character has not fully arrived (after a character that is not a word one).
   * `subject.length` when there is none. Every occurrence starting before it is whole and decided,
   * so a stream can emit everything before it (see stream.ts). Scans bytes, as a `utf8` engine does.
   */
  pendingFrom(subject: Uint8Array, from = 0): number {
    const n = subject.length;
    const long = this.#long;
    const short = this.#short;
    // A long pattern's proper prefix is shorter than it; a word may be followed by 3 bytes of a character.
    const reach = Math.max(
      long.count > 0 ? long.maxLength - 1 : 0,
      short.count > 0 ? short.maxLength + 3 : 0,
    );
    for (let p = Math.max(from, n - reach); p < n; p++) {
      if (long.count > 0 && n - p < long.maxLength && this.#pendingAt(long, subject, p)) return p;
      if (
        short.count > 0 &&
        n - p <= short.maxLength + 3 &&
        !isWord(codePointBefore(subject, p)) &&
        this.#pendingAt(short, subject, p)
      )
        return p;
    }
    return n;
  }

  /** Whether an occurrence of a `tier` pattern may begin at `p` and is not decided by the text so far. */
  #pendingAt(tier: Tier, subject: Uint8Array, p: number): boolean {
    const have = subject.length - p;
    if (have < tier.block) {
      let heads = this.#heads.get(tier);
      if (heads === undefined) {
        heads = headsOf(tier);
        this.#heads.set(tier, heads);
      }
      return hasHead(heads, subject, p, have);
    }
    const family = tier.families.get(tier.block === 4 ? key4(subject, p) & SMALL : key2(subject, p) & SMALL);
    if (family === undefined) return false;
    for (const pattern of typeof family === "string" ? [family] : family) {
      if (pattern.length > have) {
        if (beginsAt(subject, pattern, p, have)) return true;
      } else if (tier === this.#short && startsAt(subject, pattern, p)) {
        return codePointAt(subject, p + pattern.length) === INCOMPLETE;
      }
    }
    return false;
  }

  /** The tier is chosen by characters, whatever the encoding: the policy speaks of characters. */
  #tier(pattern: string): Tier {
    return pattern.length >= this.anywhereLength ? this.#long : this.#short;
  }

  /** How the engine holds a pattern: as is, or its UTF-8 bytes as a one-byte-per-unit string. */
  #stored(pattern: string): string {
    // An ASCII pattern is its own bytes: the same string, not a copy.
    if (this.encoding === "utf16" || Buffer.byteLength(pattern) === pattern.length) return pattern;
    return Buffer.from(pattern, "utf8").toString("latin1");
  }

  /**
   * Pushes to `out` the occurrences in `subject` starting in `[from, end)`, offset by `base`.
   * `units` is `subject` one byte per unit; candidates are verified on `subject` itself.
   */
  #scan(
    subject: Subject,
    units: Uint8Array,
    from: number,
    end: number,
    openEnd: boolean,
    base: number,
    out: number[],
  ): void {
    const found: number[] = [];
    if (this.#long.count > 0) this.#scanLong(subject, units, from, found);
    if (this.#short.count > 0) this.#scanShort(subject, units, from, found, openEnd);
    for (let i = 0; i < found.length; i += 2) {
      const start = found[i] as number;
      if (start < end) out.push(base + start, base + (found[i + 1] as number));
    }
  }

  // The two scans below are the hot loops: keep them free of allocation and calls that V8
  // cannot inline.
  #scanLong(subject: Subject, units: Uint8Array, from: number, out: number[]): void {
    const { stride, bits, pairs, starts, shift, startShift, families } = this.#long;
    const n = subject.length;
    for (let j = from; j <= n - 4; j += stride) {
      let k = key4(units, j);
      let h = Math.imul(k, GOLDEN) >>> shift;
      if (((bits[h >>> 5] as number) & (1 << (h & 31))) === 0) continue;
      // A pattern with a 4-gram after the sampled one ends at or after j + 8, so near the end of
      // the text only the `NO_NEXT` entries can match.
      h = pairHash(k, j + 8 <= n ? key4(units, j + 4) : NO_NEXT) >>> shift;
      if (((pairs[h >>> 5] as number) & (1 << (h & 31))) === 0) {
        h = pairHash(k, NO_NEXT) >>> shift;
        if (((pairs[h >>> 5] as number) & (1 << (h & 31))) === 0) continue;
      }
      for (let o = 0; ; ) {
        h = Math.imul(k, GOLDEN) >>> startShift;
        const family =
          ((starts[h >>> 5] as number) & (1 << (h & 31))) === 0 ? undefined : families.get(k & SMALL);
        if (family !== undefined) {
          const length = longestAt(family, subject, j - o, false);
          if (length > 0) out.push(j - o, j - o + length);
        }
        if (++o === stride || j - o < from) break;
        k = (k << 8) ^ (units[j - o] as number);
      }
    }
  }

  #scanShort(subject: Subject, units: Uint8Array, from: number, out: number[], openEnd: boolean): void {
    const { stride, bits, starts, shift, startShift, families } = this.#short;
    const n = subject.length;
    for (let j = from; j <= n - 2; j += stride) {
      const h = Math.imul(key2(units, j), GOLDEN) >>> shift;
      if (((bits[h >>> 5] as number) & (1 << (h & 31))) === 0) continue;
      for (let o = 0; o < stride && j - o >= from; o++) {
        const p = j - o;
        const k = key2(units, p);
        const hs = Math.imul(k, GOLDEN) >>> startShift;
        if (((starts[hs >>> 5] as number) & (1 << (hs & 31))) === 0) continue;
        const family = families.get(k & SMALL);
        if (family === undefined || isWord(codePointBefore(subject, p))) continue;
        const length = longestAt(family, subject, p, true, openEnd);
        if (length > 0) out.push(p, p + length);
      }
    }
  }
}

/** Sorts `[start, end]` pairs and merges the overlapping and adjacent ones. */
function merge(found: number[]): number[] {
  if (found.length <= 2) return found;
  let pairs = found;
  for (let i = 2; i < found.length; i += 2) {
    if ((found[i] as number) < (found[i - 2] as number)) {
      const order = Array.from({ length: found.length / 2 }, (_, x) => x);
      order.sort((a, b) => (found[2 * a] as number) - (found[2 * b] as number));
      pairs = order.flatMap((x) => [found[2 * x] as number, found[2 * x + 1] as number]);
      break;
    }
  }
  const out = [pairs[0] as number, pairs[1] as number];
  for (let i = 2; i < pairs.length; i += 2) {
    const start = pairs[i] as number;
    const end = pairs[i + 1] as number;
    const last = out.length - 1;
    if (start <= (out[last] as number)) out[last] = Math.max(out[last] as number, end);
    else out.push(start, end);
  }
  return out;
}

/**
 * The first `block − 1` bytes of every pattern of `tier`, packed big-endian into 24 bits and
 * sorted, so the patterns beginning with 1 to 3 given bytes are one range. A family key holds a
 * pattern's first bytes exactly in its low bits (see {@link key4}).
 */
function headsOf(tier: Tier): Int32Array {
  const heads = new Int32Array(tier.families.size);
  let i = 0;
  for (const k of tier.families.keys())
    heads[i++] =
      tier.block === 4 ? ((k & 0xff) << 16) | (k & 0xff00) | ((k >>> 16) & 0xff) : (k & 0xff) << 16;
  return heads.sort();
}

/** Whether some head begins with the `have` (1 to 3) bytes of `units` at `p`. */
function hasHead(heads: Int32Array, units: Uint8Array, p: number, have: number): boolean {
  let low = 0;
  for (let i = 0; i < have; i++) low |= (units[p + i] as number) << (16 - 8 * i);
  const high = low + (1 << (24 - 8 * have));
  let lo = 0;
  let hi = heads.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((heads[mid] as number) < low) lo = mid + 1;
    else hi = mid;
  }
  return lo < heads.length && (heads[lo] as number) < high;
}

/** Whether the first `count` units of `pattern` are at `p` in `subject`. */
function beginsAt(subject: Uint8Array, pattern: string, p: number, count: number): boolean {
  for (let i = 0; i < count; i++) if (subject[p + i] !== pattern.charCodeAt(i)) return false;
  return true;
}
