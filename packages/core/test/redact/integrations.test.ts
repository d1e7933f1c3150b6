import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import winston from "winston";
import {
  createRedactor,
  pinoRedactionHooks,
  redactingDestination,
  redactProcessOutput,
  winstonRedactFormat,
} from "../../src/redact/index.js";

// A quote and a backslash: in a JSON log line the value appears JSON-escaped.
const secret = 'pa"ss\\word-4242';
const redactor = createRedactor();
redactor.register(secret, { key: "DB_PASSWORD" });

/** A pino destination that keeps each line. */
function memory() {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

describe("pino", () => {
  it("redacts values in the serialized line through hooks.streamWrite", () => {
    const dest = memory();
    const logger = pino({ hooks: pinoRedactionHooks(redactor) }, dest);
    logger.info(
      { password: secret, nested: { header: `Basic ${Buffer.from(secret).toString("base64")}` } },
      `login ${secret}`,
    );
    logger.error(new Error(`connect failed for ${secret}`));
    expect(dest.lines).toHaveLength(2);
    for (const line of dest.lines) {
      expect(line).not.toContain("word-4242");
      expect(line).toContain("******");
    }
    const first = JSON.parse(dest.lines[0] as string);
    expect(first).toMatchObject({
      msg: "login ******",
      password: "******",
      nested: { header: "Basic ******" },
    });
    const second = JSON.parse(dest.lines[1] as string);
    expect(second.err.message).toBe("connect failed for ******");
    expect(second.err.stack).toContain("connect failed for ******");
  });

  it("redacts through a wrapping destination, keeping the destination's other members", () => {
    const dest = Object.assign(memory(), { flushSync: () => "flushed" });
    const wrapped = redactingDestination(redactor, dest);
    const logger = pino({}, wrapped);
    logger.warn({ token: secret }, "rotating");
    expect(JSON.parse(dest.lines[0] as string)).toMatchObject({ token: "******", msg: "rotating" });
    expect(wrapped.flushSync()).toBe("flushed");
  });

  it("wraps a real pino.destination (SonicBoom), passed as pino's only argument", () => {
    const dir = mkdtempSync(join(tmpdir(), "keyway-redact-"));
    const file = join(dir, "log.json");
    try {
      const dest = pino.destination({ dest: file, sync: true });
      const logger = pino(redactingDestination(redactor, dest));
      logger.info({ token: secret }, `hello ${secret}`);
      dest.flushSync();
      expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ token: "******", msg: "hello ******" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("winston", () => {
  async function logWith(format: winston.Logform.Format): Promise<string> {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
    const logger = winston.createLogger({ format, transports: [new winston.transports.Stream({ stream })] });
    logger.info(`login ${secret}`, { password: secret, nested: { list: [secret] } });
    logger.error(new Error(`boom ${secret}`));
    await new Promise((resolve) => setImmediate(resolve));
    return chunks.join("");
  }

  it("redacts the final line and every field when placed last", async () => {
    const { combine, errors, json, printf } = winston.format;
    const out = await logWith(combine(errors({ stack: true }), json(), winstonRedactFormat(redactor)));
    expect(out).not.toContain("word-4242");
    const lines = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      message: "login ******",
      password: "******",
      nested: { list: ["******"] },
    });
    expect(lines[1].message).toBe("boom ******");
    expect(lines[1].stack).toContain("boom ******");
    // A printf format builds the final line from fields the JSON escaping never touched.
    const printed = await logWith(
      combine(
        printf((info) => `${info.level}: ${info.message} ${info.password}`),
        winstonRedactFormat(redactor),
      ),
    );
    expect(printed).toBe("info: login ****** ******\nerror: boom ****** undefined\n");
  });

  it("redacts fields before serialization when placed first", async () => {
    const { combine, json } = winston.format;
    const out = await logWith(combine(winstonRedactFormat(redactor), json()));
    expect(out).not.toContain("word-4242");
    expect(out).toContain('"password":"******"');
  });
});

describe("redactProcessOutput", () => {
  const restore: Array<() => void> = [];
  afterEach(() => {
    for (const undo of restore.splice(0)) undo();
  });

  /** A stand-in for process.stdout that records what reaches it. */
  function fakeStream() {
    const writes: Array<{ chunk: unknown; encoding: unknown }> = [];
    const stream = {
      writes,
      write(chunk: unknown, encoding?: unknown, callback?: unknown) {
        writes.push({ chunk, encoding });
        if (typeof encoding === "function") encoding();
        if (typeof callback === "function") callback();
        return true;
      },
    };
    return stream as typeof stream & NodeJS.WriteStream;
  }

  it("redacts string and Buffer writes, keeps callbacks, passes secret-free binary through", () => {
    const out = fakeStream();
    restore.push(redactProcessOutput(redactor, [out]));
    let called = 0;
    out.write(`text ${secret}\n`, () => called++);
    out.write(Buffer.from(`buffer ${secret}\n`), "utf8", () => called++);
    const binary = Buffer.from([0xff, 0x00, 0xfe]);
    out.write(binary);
    out.write(Buffer.from(`hex ${secret}`).toString("hex"), "hex");
    expect(called).toBe(2);
    expect(out.writes.map((w) => w.chunk)).toEqual([
      "text ******\n",
      "buffer ******\n",
      binary,
      "hex ******",
    ]);
    expect(out.writes[3]?.encoding).toBe("utf8");
  });

  it("wraps process.stdout and process.stderr by default, and undo() restores them", () => {
    const original = { out: process.stdout.write, err: process.stderr.write };
    const seen: string[] = [];
    const capture = (chunk: unknown) => {
      seen.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      const undo = redactProcessOutput(redactor);
      process.stdout.write(`out ${secret}`);
      process.stderr.write(`err ${secret}`);
      undo();
      expect(process.stdout.write).toBe(capture);
      expect(process.stderr.write).toBe(capture);
      process.stdout.write(`after ${secret}`);
    } finally {
      process.stdout.write = original.out;
      process.stderr.write = original.err;
    }
    expect(seen).toEqual(["out ******", "err ******", `after ${secret}`]);
  });

  it("leaves a later wrapper in place on undo, and stops redacting", () => {
    const out = fakeStream();
    const undo = redactProcessOutput(redactor, [out]);
    const ours = out.write;
    const theirs = ((chunk: unknown) => ours.call(out, `[x] ${String(chunk)}`)) as typeof out.write;
    out.write = theirs;
    undo();
    expect(out.write).toBe(theirs);
    out.write(secret);
    expect(out.writes.map((w) => w.chunk)).toEqual([`[x] ${secret}`]);
  });
});
