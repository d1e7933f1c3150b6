import type { Transform } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRedactor } from "../../src/redact/index.js";
import type { Redactor } from "../../src/redact/types.js";
import { maskedForms, secretsAndText } from "./scenarios.js";

const quiet = { onWarning: () => {} };

/** Cuts `bytes` at the given sizes (cycled), so chunks can end inside a UTF-8 character. */
function cut(bytes: Buffer, sizes: readonly number[]): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] ?? 1;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Writes the chunks one by one and returns everything the stream emitted, as text. Each emitted
 * chunk must be whole UTF-8 characters: a consumer may decode chunks one by one.
 */
async function pipeThrough(stream: Transform, chunks: Iterable<Buffer | string>): Promise<string> {
  const out: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => {
    strictUtf8.decode(chunk); // throws on a split character
    out.push(chunk);
  });
  const done = new Promise((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await done;
  return Buffer.concat(out).toString("utf8");
}

/** Writes one chunk and returns what the stream emitted for it. */
function writeAndRead(stream: Transform, chunk: string): string {
  stream.write(chunk);
  const out = stream.read() as Buffer | null;
  return out === null ? "" : out.toString("utf8");
}

describe("redactor.stream()", () => {
  it("emits exactly what redacting the whole text gives, however the bytes are chunked", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretsAndText,
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }),
        async ([values, text], sizes) => {
          const redactor = createRedactor(quiet);
          for (const v of values) redactor.register(v);
          const out = await pipeThrough(redactor.stream(), cut(Buffer.from(text), sizes));
          expect(out).toBe(redactor.redact(text));
          for (const form of maskedForms(values)) if (form.length >= 8) expect(out).not.toContain(form);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("masks a secret written one byte at a time, multibyte characters included", async () => {
    const redactor = createRedactor();
    const secret = "pässwörd-€-😀-secret";
    redactor.register(secret);
    const text = `before ${secret} middle ${Buffer.from(secret).toString("base64")} after ü`;
    const out = await pipeThrough(redactor.stream(), cut(Buffer.from(text), [1]));
    expect(out).toBe("before ****** middle ****** after ü");
  });

  it("passes text through unchanged when nothing is registered or nothing matches", async () => {
    const text = "plain text ✓ with ümlauts and 😀\n".repeat(50);
    expect(await pipeThrough(createRedactor().stream(), cut(Buffer.from(text), [3, 1, 5]))).toBe(text);
    const redactor = createRedactor();
    redactor.register("not-in-the-text");
    expect(await pipeThrough(redactor.stream(), cut(Buffer.from(text), [2]))).toBe(text);
  });

  it("holds back no more than the longest pattern minus one character", () => {
    const redactor = createRedactor();
    redactor.register("0123456789"); // the longest form is its hex, 20 characters
    const stream = redactor.stream();
    let emitted = "";
    let written = "";
    for (let i = 0; i < 30; i++) {
      const chunk = "abcdefg".slice(0, (i % 7) + 1);
      written += chunk;
      emitted += writeAndRead(stream, chunk);
      expect(written.length - emitted.length).toBeLessThanOrEqual(19);
    }
    expect(written.startsWith(emitted)).toBe(true);
    expect(written.length - emitted.length).toBe(19);
  });

  it("uses secrets registered while the stream is open, with the holdback they need", async () => {
    const redactor = createRedactor();
    const stream = redactor.stream();
    expect(writeAndRead(stream, "emitted at once: ")).toBe("emitted at once: "); // nothing registered: no holdback
    redactor.register("late-registered-secret");
    const rest = await pipeThrough(stream, ["a late-reg", "istered-sec", "ret b"]);
    expect(rest).toBe("a ****** b");
  });

  it("follows the redactor's registrations: a value evicted after the stream opened is not masked", async () => {
    const redactor = createRedactor({ maxValues: 1 });
    redactor.register("first-secret-value");
    const stream = redactor.stream();
    redactor.register("second-secret-value"); // evicts the first
    const out = await pipeThrough(stream, ["first-secret-value second-secret-value"]);
    expect(out).toBe("first-secret-value ******");
    expect(out).toBe(redactor.redact("first-secret-value second-secret-value"));
  });

  it("merges a mask that spans a chunk boundary with the match that continues it", async () => {
    const redactor = createRedactor();
    redactor.register("AAAAAAAABBBB");
    redactor.register("BBBBCCCCCCCC");
    const text = "x AAAAAAAABBBBCCCCCCCC y";
    for (let at = 1; at < text.length; at++) {
      expect(await pipeThrough(redactor.stream(), [text.slice(0, at), text.slice(at)])).toBe("x ****** y");
    }
  });

  it("decides a whole-word match only when the next character has arrived", async () => {
    const redactor: Redactor = createRedactor();
    redactor.register("word"); // 4 characters: whole words only
    expect(await pipeThrough(redactor.stream(), ["a word", "s b"])).toBe("a words b");
    expect(await pipeThrough(redactor.stream(), ["a word", " b"])).toBe("a ****** b");
    expect(await pipeThrough(redactor.stream(), ["a word"])).toBe("a ******");
    // The next character is a letter whose two bytes arrive apart.
    const e = Buffer.from("é");
    expect(await pipeThrough(redactor.stream(), ["a word", e.subarray(0, 1), e.subarray(1), " b"])).toBe(
      "a wordé b",
    );
    expect(await pipeThrough(redactor.stream(), ["é word", e.subarray(0, 1), e.subarray(1)])).toBe("é wordé");
    // A character that is not a letter, its three bytes arriving in two writes: the word is masked.
    const euro = Buffer.from("€");
    expect(
      await pipeThrough(redactor.stream(), ["a word", euro.subarray(0, 2), euro.subarray(2), " b"]),
    ).toBe("a ******€ b");
    // A word short enough to have no encoded form, so the word, not a longer form, sets the holdback.
    const short = createRedactor({ minLength: 2 });
    short.register("ab");
    expect(await pipeThrough(short.stream(), ["x ab", euro.subarray(0, 2), euro.subarray(2), " y"])).toBe(
      "x ******€ y",
    );
  });

  it("passes bytes that are not UTF-8 through unchanged, masking around them", async () => {
    const redactor = createRedactor();
    redactor.register("secret-value-1");
    const bytes = Buffer.concat([
      Buffer.from([0xff, 0xc3]),
      Buffer.from(" secret-value-1 "),
      Buffer.from([0x80]),
    ]);
    const out: Buffer[] = [];
    const stream = redactor.stream();
    stream.on("data", (chunk: Buffer) => out.push(chunk));
    for (const chunk of cut(bytes, [1, 2])) stream.write(chunk);
    stream.end();
    await new Promise((resolve) => stream.on("end", resolve));
    expect(Buffer.concat(out)).toEqual(
      Buffer.concat([Buffer.from([0xff, 0xc3]), Buffer.from(" ****** "), Buffer.from([0x80])]),
    );
  });
});

describe("redactor.stream() regressions", () => {
  it("does not emit a whole-word match before the next character can refute it (found by the chunking property)", async () => {
    const redactor = createRedactor(quiet);
    redactor.register("X{=< ");
    const text = "X%7B%3D%3C+X{=< a";
    const out = await pipeThrough(redactor.stream(), cut(Buffer.from(text), [4]));
    expect(out).toBe(redactor.redact(text));
    expect(out).toBe("******X{=< a");
  });
});
