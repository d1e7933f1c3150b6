/** A Transform that masks secrets however the text is cut into chunks. */

import { Transform, type TransformCallback } from "node:stream";
import { StringDecoder } from "node:string_decoder";

/** What the stream needs from a redactor; read on every chunk, so secrets registered later count. */
export interface RangeSource {
  readonly mask: string;
  /** Characters that must stay unemitted at the end of the text until more arrives. */
  readonly holdback: number;
  /**
   * Merged masked ranges of occurrences starting at or after `from` (see `MatchEngine.ranges`);
   * `openEnd` while more text may follow.
   */
  ranges(text: string, from: number, openEnd: boolean): number[];
}

/**
 * A Transform whose output is what redacting the whole input at once would give, chunked
 * differently. Bytes are decoded with a `StringDecoder`, so a UTF-8 character split across chunks is
 * whole before matching. The stream holds back the last `holdback` characters (the longest pattern
 * minus one, or the longest whole-word pattern when that is longer, since a word needs the next
 * character to be decided); the end of the input flushes them.
 */
export function redactingStream(source: RangeSource): Transform {
  const decoder = new StringDecoder("utf8");
  // `text` holds the characters not yet emitted, preceded by the already emitted ones from
  // `emitted` back to `from − 1`: the character before `from` decides a word boundary, and a mask
  // that ran past the last cut has emitted characters after `from`.
  let text = "";
  let from = 0;
  let emitted = 0;
  // True when the output ends with a mask that covers up to `emitted`: a match that overlaps it or
  // starts right after it joins that mask instead of printing a second one.
  let tailMasked = false;

  const drain = (final: boolean): string => {
    let cut = final ? text.length : Math.max(from, text.length - source.holdback);
    // Never split a surrogate pair between what is emitted and what is held back.
    if (!final && cut > from && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
    if (cut <= from) return "";
    let out = "";
    const r = source.ranges(text, from, !final);
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
      if (start > emitted) out += text.slice(emitted, start);
      out += source.mask;
      emitted = end;
      tailMasked = true;
    }
    if (emitted < cut) {
      out += text.slice(emitted, cut);
      emitted = cut;
      tailMasked = false;
    }
    const keep = Math.max(0, cut - 1);
    text = text.slice(keep);
    from = cut - keep;
    emitted -= keep;
    return out;
  };

  return new Transform({
    transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback) {
      text += typeof chunk === "string" ? chunk : decoder.write(chunk);
      const out = drain(false);
      callback(null, out.length > 0 ? out : undefined);
    },
    flush(callback: TransformCallback) {
      text += decoder.end();
      const out = drain(true);
      callback(null, out.length > 0 ? out : undefined);
    },
  });
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
