/** A Transform that masks secrets in UTF-8 bytes however they are cut into chunks. */

import { Buffer } from "node:buffer";
import { Transform, type TransformCallback } from "node:stream";

/** What the stream needs from a redactor; read on every chunk, so secrets registered later count. */
export interface ByteRangeSource {
  /** The mask, UTF-8 encoded. */
  readonly mask: Uint8Array;
  /**
   * The first offset at or after `from` where an occurrence may begin that `bytes` cannot decide
   * yet (see `MatchEngine.pendingFrom`); `bytes.length` when there is none.
   */
  pendingFrom(bytes: Uint8Array, from: number): number;
  /**
   * Merged masked byte ranges of occurrences starting at or after `from` (see `MatchEngine.ranges`
   * of a `utf8` engine); `openEnd` while more input may follow.
   */
  ranges(bytes: Uint8Array, from: number, openEnd: boolean): number[];
}

/** Bytes kept before the first unscanned one: the longest UTF-8 character, which decides a word boundary. */
const CONTEXT = 4;

/**
 * A Transform whose output, decoded, is what redacting the whole decoded input at once gives
 * (for valid UTF-8; other bytes pass through as they are). It scans the bytes themselves: decoding
 * them to text first cost as much as the redaction (see `engine.ts`).
 *
 * Each chunk is emitted at once up to the first byte where a registered form could still begin
 * (the rest is a proper prefix of a form, or a whole-word form whose next character has not
 * arrived; a character is never split): a log line, a "ready" line or a prompt comes out as soon
 * as it is written (trust issue #20 point 1). Only that possible beginning of a secret, never more
 * than the longest form minus a character, waits for the next chunk or the end of the input, however
 * long the source pauses: once emitted, bytes cannot be taken back, so releasing them on a timer
 * would print the start of a secret whose rest arrives later. There is no timer to wait for: what
 * can be emitted is emitted when the chunk arrives, and what is held could be a secret. So whenever
 * the source pauses, the output so far is the start of what redacting the whole input gives. The
 * cost: with many secrets nearly every letter and digit begins some base64 or hex form, so a prompt
 * ending in one may show without its last character or two until more output comes; one ending
 * in a space, `:`, `?`, `>` or a newline begins no encoded form and shows whole.
 *
 * Each chunk is scanned in a reused buffer behind the bytes held from the previous one, and what
 * is emitted are views of the chunk itself: a new buffer per chunk cost a quarter of the scan.
 */
export function redactingStream(source: ByteRangeSource): Transform {
  // `held` (a copy: `work` is reused) holds the bytes not yet emitted, preceded by already emitted
  // ones from `emitted` back to `from − CONTEXT`: those decide a word boundary at `from`, and a mask
  // that ran past the last cut has emitted bytes after `from`. Offsets count from `held`'s start.
  let held: Buffer = Buffer.alloc(0);
  let work: Buffer = Buffer.alloc(0);
  let from = 0;
  let emitted = 0;
  // True when the output ends with a mask that covers up to `emitted`: a match that overlaps it or
  // starts right after it joins that mask instead of printing a second one.
  let tailMasked = false;

  /** Scans `held` followed by `chunk` and returns what can be emitted. */
  const drain = (chunk: Buffer, final: boolean): Buffer[] => {
    const n = held.length + chunk.length;
    if (work.length < n) work = Buffer.allocUnsafe(Math.max(n, 2 * work.length));
    work.set(held, 0);
    work.set(chunk, held.length);
    const bytes = work.subarray(0, n);
    const cut = final ? n : characterStart(bytes, source.pendingFrom(bytes, from), from);
    const out: Buffer[] = [];
    if (cut > from) {
      const r = source.ranges(bytes, from, !final);
      for (let i = 0; i < r.length; i += 2) {
        const start = r[i] as number;
        const end = r[i + 1] as number;
        // Matches starting at or after the cut may still grow; the next chunk finds them again.
        if (start >= cut) break;
        if (end <= emitted) continue;
        if (start <= emitted && tailMasked) {
          emitted = end;
          continue;
        }
        if (start > emitted) out.push(...piecesOf(held, chunk, emitted, start));
        out.push(Buffer.from(source.mask));
        emitted = end;
        tailMasked = true;
      }
      if (emitted < cut) {
        out.push(...piecesOf(held, chunk, emitted, cut));
        emitted = cut;
        tailMasked = false;
      }
    }
    // `cut` never moves below `from`, so neither does the next scan.
    const keep = Math.max(0, cut - CONTEXT);
    held = Buffer.from(bytes.subarray(keep));
    from = cut - keep;
    emitted -= keep;
    return out;
  };

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      for (const piece of drain(chunk, false)) this.push(piece);
      callback();
    },
    flush(callback: TransformCallback) {
      for (const piece of drain(EMPTY, true)) this.push(piece);
      callback();
    },
  });
}

const EMPTY = Buffer.alloc(0);

/**
 * Bytes `[start, end)` of `held` followed by `chunk`, as views of the chunk where possible. A
 * character split between the two is copied whole into the first piece.
 */
function piecesOf(held: Buffer, chunk: Buffer, start: number, end: number): Buffer[] {
  const h = held.length;
  if (start >= h) return [chunk.subarray(start - h, end - h)];
  if (end <= h) return [held.subarray(start, end)];
  let split = 0;
  while (split < 3 && split < end - h && ((chunk[split] as number) & 0xc0) === 0x80) split++;
  const first =
    split === 0 ? held.subarray(start) : Buffer.concat([held.subarray(start), chunk.subarray(0, split)]);
  return end - h > split ? [first, chunk.subarray(split, end - h)] : [first];
}

/** `cut`, or the start of the UTF-8 character it would split (never below `min`). */
function characterStart(bytes: Uint8Array, cut: number, min: number): number {
  for (let i = cut - 1; i >= min && i >= cut - 3; i--) {
    const lead = bytes[i] as number;
    if ((lead & 0xc0) === 0x80) continue; // a continuation byte: the lead is further back
    // A byte that begins no character (0xC0, 0xC1, 0xF5–0xFF) waits for none.
    const length = lead >= 0xf5 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 1;
    return i + length > cut ? i : cut;
  }
  return cut;
}
