import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import dotenv from "dotenv";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkEncoded, encodeDotenv, parseDotenv } from "../src/index.js";
import { b64, cli, tempFiles } from "./harness.js";

const SAMPLE = [
  "# a comment",
  "",
  "export API_TOKEN=abc123",
  "PLAIN = spaced value   # inline comment",
  "SINGLE='literal $HOME \\n # not a comment'",
  'DOUBLE="line1\\nline2"',
  'MULTI="first',
  "second",
  'third"',
  "EQUALS=a=b=c",
  "EMPTY=",
  "BACKTICK=`tick 'q' \"d\"`",
  "Mixed_Case=keeps case",
  "LAST=no newline at end",
].join("\r\n");

describe("encode-env: the dotenv dialect, strictly", () => {
  it("parses like dotenv.parse for every valid line", () => {
    const ours = Object.fromEntries(parseDotenv(SAMPLE).entries.map((e) => [e.key, e.value]));
    expect(ours).toEqual(dotenv.parse(SAMPLE));
  });

  it("matches dotenv.parse on generated files of simple KEY=value lines (property)", () => {
    const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/);
    const value = fc.stringMatching(/^[A-Za-z0-9 ._:/@+=-]{0,30}$/).map((v) => v.trim());
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k.toUpperCase(), maxLength: 10 }),
        (pairs) => {
          const text = pairs.map(([k, v]) => `${k}=${v}`).join("\n");
          const ours = Object.fromEntries(parseDotenv(text).entries.map((e) => [e.key, e.value]));
          expect(ours).toEqual(dotenv.parse(text));
        },
      ),
    );
  });

  it("encodes SECRET_KEY=<base64> lines without wrapping, keys keeping their case", () => {
    const long = "x".repeat(200);
    const out = encodeDotenv(`A=1\nMixed=${long}\n`);
    expect(out).toBe(`SECRET_A=${b64("1")}\nSECRET_Mixed=${b64(long)}\n`);
  });

  it.each([
    ["a line that does not parse", "GOOD=1\nthis is not an assignment\n", 2],
    ["a key outside the key grammar", "GOOD=1\nBAD.KEY=x\n", 2],
    ["an unclosed quote", 'GOOD=1\nQ="never closed\n', 2],
    ["text after a closing quote", "A='x' trailing\n", 1],
    ["duplicate keys differing only in case (Kestra: Duplicate key)", "foo=1\nFOO=2\n", 2],
  ])("%s is an error with its line number (exit 3), and nothing is written", async (_, text, line) => {
    const dir = await tempFiles({ ".env": text });
    const r = await cli(["encode-env", ".env", "--output", "out.env"], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`line ${line}:`);
    expect(existsSync(path.join(dir, "out.env"))).toBe(false);
  });

  it("writes --output atomically, and reads stdin with -", async () => {
    const dir = await tempFiles({});
    expect((await cli(["encode-env", "-", "-o", "out.env"], { cwd: dir, stdin: "K=v" })).code).toBe(0);
    expect(readFileSync(path.join(dir, "out.env"), "utf8")).toBe(`SECRET_K=${b64("v")}\n`);
  });

  it("--check names every bad line and never a value", async () => {
    const encoded = [
      `SECRET_OK=${b64("fine")}`,
      "SECRET_PLAIN=password",
      "SECRET_SPACE=YW Jj",
      "NOT_A_SECRET=x",
    ].join("\n");
    expect(checkEncoded(encoded)).toHaveLength(3);
    const dir = await tempFiles({ "enc.env": encoded });
    const r = await cli(["encode-env", "--check", "enc.env"], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/line 2: SECRET_PLAIN: .*was the value base64-encoded\?/);
    expect(r.stderr).toMatch(/line 3: SECRET_SPACE/);
    expect(r.stderr).toMatch(/line 4:/);
    expect(r.stderr).not.toContain("password");
    expect((await cli(["encode-env", "--check", "-"], { stdin: `SECRET_OK=${b64("fine")}\n` })).code).toBe(0);
  });

  it("round trip: what encode-env writes, the env backend reads back (the docs' script loses the last line)", async () => {
    const dir = await tempFiles({ ".env": "A=first\nB=last line without newline" });
    const encoded = (await cli(["encode-env", ".env"], { cwd: dir })).stdout;
    const env = Object.fromEntries(
      encoded
        .trim()
        .split("\n")
        .map((l) => l.split(/=(.*)/s).slice(0, 2)),
    );
    expect((await cli(["get", "B"], { env })).stdout).toBe("last line without newline");
  });
});
