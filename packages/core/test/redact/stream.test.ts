import { spawn } from "node:child_process";
import type { Readable, Transform } from "node:stream";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRedactor } from "../../src/redact/index.js";
import type { Redactor } from "../../src/redact/types.js";
import { referenceRanges } from "./reference.js";
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
function writeAndRead(stream: Transform, chunk: string | Buffer): string {
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

  it("holds back only what could still begin a form, never more than the longest one minus a character", () => {
    const redactor = createRedactor();
    redactor.register("0123456789"); // the longest form is its hex, 20 characters
    const stream = redactor.stream();
    // Nothing here begins a form: each write comes out whole, at once (trust issue #20 point 1).
    expect(writeAndRead(stream, "abcdefg ")).toBe("abcdefg ");
    // "3031" begins the hex form: held, and no more than it.
    expect(writeAndRead(stream, "id=3031")).toBe("id=");
    // The hex form written a character at a time: its 19 first characters are held, then masked.
    const fresh = redactor.stream();
    for (const c of "3031323334353637383") expect(writeAndRead(fresh, c)).toBe("");
    expect(writeAndRead(fresh, "9 ok")).toBe("****** ok");
  });

  it("uses secrets registered while the stream is open, with the holdback they need", async () => {
    const redactor = createRedactor();
    const stream = redactor.stream();
    expect(writeAndRead(stream, "emitted at once: ")).toBe("emitted at once: "); // nothing registered: no holdback
    redactor.register("late-registered-secret");
    const rest = await pipeThrough(stream, ["a late-reg", "istered-sec", "ret b"]);
    expect(rest).toBe("a ****** b");
  });

  it("holds the first bytes of a secret registered after the stream last held some (trust issue #20 point 1)", async () => {
    const redactor = createRedactor();
    redactor.register("AAAA-first-secret");
    const stream = redactor.stream();
    expect(writeAndRead(stream, "x A")).toBe("x "); // the engine's first bytes are looked up here
    expect(writeAndRead(stream, "\n")).toBe("A\n");
    redactor.register("Zulu-second-secret");
    expect(writeAndRead(stream, "y Z")).toBe("y ");
    expect(await pipeThrough(stream, ["ulu-second-secret z"])).toBe("****** z");
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
  it("does not hold a byte that begins no UTF-8 character as if more of it were coming (trust issue #20 point 1)", () => {
    const redactor = createRedactor();
    redactor.register("secret-value-1");
    for (const lead of [0xc0, 0xc1, 0xf5, 0xff]) {
      const bytes = Buffer.from([0x20, lead]);
      const out = redactor.stream();
      out.write(bytes);
      expect(out.read()).toEqual(bytes);
    }
  });

  it("does not emit a whole-word match before the next character can refute it (found by the chunking property)", async () => {
    const redactor = createRedactor(quiet);
    redactor.register("X{=< ");
    const text = "X%7B%3D%3C+X{=< a";
    const out = await pipeThrough(redactor.stream(), cut(Buffer.from(text), [4]));
    expect(out).toBe(redactor.redact(text));
    expect(out).toBe("******X{=< a");
  });
});

/** Resolves with the output read so far once it contains `expected`; rejects if the stream ends first. */
function readUntil(stream: Readable, expected: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      if (!text.includes(expected)) return;
      stream.off("data", onData);
      stream.pause();
      resolve(text);
    };
    stream.on("data", onData);
    stream.once("end", () => reject(new Error(`the stream ended without ${JSON.stringify(expected)}`)));
  });
}

/**
 * A child that writes `text` and then stays alive until its stdin ends: a server that printed
 * "ready", or a prompt waiting for an answer. Its stdout goes through `redactor.stream()`.
 */
function pausingChild(redactor: Redactor, text: string) {
  const child = spawn(
    process.execPath,
    ["-e", "process.stdout.write(process.env.TEXT); process.stdin.resume()"],
    { env: { TEXT: text }, stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise((resolve) => child.once("close", resolve));
  return { child, output: child.stdout.pipe(redactor.stream()), exited };
}

/** Secrets as an executor holds them: a token, a JSON credential, a PEM key, a short PIN. */
function executorRedactor(): Redactor {
  const redactor = createRedactor(quiet);
  redactor.register("ghp_4fT9kQ2mZx7Lr1Vb8NcW3yHs6Ju0Pa5DeGiO");
  redactor.register(JSON.stringify({ client_email: "etl@proj.iam.example", private_key_id: "9f8e7d6c5b4a" }));
  redactor.register(
    `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n`,
  );
  redactor.register("4821");
  return redactor;
}

describe("trust issue #20 point 1: live output from a child that pauses", () => {
  it("gets a line out while the child is still running and has written nothing more", async () => {
    const { child, output, exited } = pausingChild(executorRedactor(), "server ready on 127.0.0.1:8080\n");
    const seen = await readUntil(output, "server ready on 127.0.0.1:8080\n");
    expect(seen).toBe("server ready on 127.0.0.1:8080\n");
    expect(child.exitCode).toBeNull(); // still alive: the line did not wait for the exit
    child.stdin.end();
    await exited;
  });

  it("shows a prompt that has no newline", async () => {
    const { child, output, exited } = pausingChild(
      executorRedactor(),
      "token=ghp_4fT9kQ2mZx7Lr1Vb8NcW3yHs6Ju0Pa5DeGiO\nPassword: ",
    );
    expect(await readUntil(output, "Password: ")).toBe("token=******\nPassword: ");
    expect(child.exitCode).toBeNull();
    child.stdin.end();
    await exited;
  });
});

/** Whether `bytes` is empty or the start of one multibyte UTF-8 character, not all of it. */
function incompleteCharacter(bytes: Buffer): boolean {
  if (bytes.length === 0) return true;
  const lead = bytes[0] as number;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return bytes.length < length && bytes.subarray(1).every((b) => (b & 0xc0) === 0x80);
}

const WORD = /[\p{L}\p{N}\p{M}_]$/u;

/**
 * The reference for what a stream may hold after `written`: the byte offset of the earliest
 * position where a masked form could still begin (a proper prefix of a form; for a whole-word form,
 * the form itself while the character after it is unknown; a character not yet whole). `written`
 * is `written.length` when nothing can.
 */
function referenceHeldFrom(forms: readonly string[], written: Buffer): number {
  for (let i = 0; i < written.length; i++) {
    if (((written[i] as number) & 0xc0) === 0x80) continue; // inside a character
    const rest = written.subarray(i);
    if (rest.length < 4 && incompleteCharacter(rest) && rest.length > 0 && (rest[0] as number) >= 0xc0)
      return i;
    const wordBefore = WORD.test(written.subarray(0, i).toString("utf8"));
    for (const form of forms) {
      const bytes = Buffer.from(form);
      const word = form.length < 8;
      if (word && wordBefore) continue;
      if (rest.length < bytes.length && bytes.subarray(0, rest.length).equals(rest)) return i;
      if (
        word &&
        rest.subarray(0, bytes.length).equals(bytes) &&
        incompleteCharacter(rest.subarray(bytes.length))
      )
        return i;
    }
  }
  return written.length;
}

/** What the whole redacted `text` shows of its first `upTo` characters: masks that start there whole. */
function redactedBefore(forms: readonly string[], text: string, upTo: number): string {
  let out = "";
  let last = 0;
  for (const [start, end] of referenceRanges(forms, text, 8)) {
    if (start >= upTo) break;
    out += `${text.slice(last, start)}******`;
    last = end;
  }
  return out + text.slice(last, Math.max(last, upTo));
}

describe("trust issue #20 point 1: what a stream has emitted whenever its source pauses", () => {
  it("is the redacted text up to the earliest byte that could still begin a form, and never part of a form", async () => {
    await fc.assert(
      fc.asyncProperty(
        secretsAndText,
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        async ([values, text], sizes) => {
          const redactor = createRedactor(quiet);
          for (const v of values) redactor.register(v);
          const forms = maskedForms(values);
          const whole = redactor.redact(text);
          const stream = redactor.stream();
          const bytes = Buffer.from(text);
          let written = 0;
          let emitted = "";
          for (const chunk of cut(bytes, sizes)) {
            // A pause: the source wrote this chunk and nothing more yet.
            emitted += writeAndRead(stream, chunk);
            written += chunk.length;
            const held = referenceHeldFrom(forms, bytes.subarray(0, written));
            const upTo = bytes.subarray(0, held).toString("utf8").length;
            // Never part of a form that completes later: what is out is the start of the final output.
            expect(whole.startsWith(emitted)).toBe(true);
            // And nothing is held that could not begin a form.
            expect(emitted).toBe(redactedBefore(forms, text, upTo));
          }
          const rest = new Promise<string>((resolve) => {
            let tail = "";
            stream.on("data", (chunk: Buffer) => {
              tail += chunk.toString("utf8");
            });
            stream.on("end", () => resolve(tail));
          });
          stream.end();
          expect(emitted + (await rest)).toBe(whole);
        },
      ),
      { numRuns: 300 },
    );
  });
});
