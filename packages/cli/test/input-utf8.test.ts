// Trust issue #18 point 10: text input that is not UTF-8 fails with exit 3 and says where (byte
// offset and line), on every path that reads text (render / check of text, YAML and JSON, from a
// file or stdin; encode-env and import of a .env), instead of turning the bytes into U+FFFD. The
// bytes themselves are never echoed: in a .env they are part of a secret. `redact` streams bytes
// and keeps them exactly.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { b64, cli, tempFiles } from "./harness.js";

const CONFIG = `backends:\n  m:\n    type: memory\n    initial:\n      "company/TOKEN": "tok-3f9a81c2-live"\nnamespaces:\n  - { match: "", backend: m }\n`;

/** A keyway.yaml and files written as bytes. */
async function files(entries: Record<string, Buffer>): Promise<string> {
  const dir = await tempFiles({ "keyway.yaml": CONFIG });
  for (const [name, bytes] of Object.entries(entries)) await writeFile(path.join(dir, name), bytes);
  return dir;
}

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

/** Invalid sequences: a lone continuation byte, 0xFF, an overlong '/', an encoded surrogate, a cut-off euro sign. */
const INVALID: Record<string, number[]> = {
  "a lone continuation byte": [0x80],
  "the byte 0xFF": [0xff],
  "an overlong encoding": [0xc0, 0xaf],
  "an encoded surrogate": [0xed, 0xa0, 0x80],
  "a truncated sequence": [0xe2, 0x82],
};

describe("render and check refuse text that is not UTF-8 (trust issue #18 point 10)", () => {
  // Line 3 starts after "id: f\n# café ☕ – U+FFFD here: \uFFFD\n": a real U+FFFD is not the fault.
  const head = "id: f\n# café ☕ – U+FFFD here: \uFFFD\n";
  const offset = Buffer.byteLength(head, "utf8") + Buffer.byteLength("note: ", "utf8");

  for (const [what, sequence] of Object.entries(INVALID)) {
    for (const [name, format] of [
      ["flow.yaml", "yaml"],
      ["flow.json", "json"],
      ["flow.txt", "text"],
    ] as const) {
      it(`${what} in a ${format} file: exit 3, file, byte offset and line named; nothing on stdout`, async () => {
        const body =
          format === "json"
            ? bytes(
                '{"t": "{{ secret(\'TOKEN\') }}",\n "c": "caf\u00e9 \uFFFD",\n "note": "',
                sequence,
                '"}\n',
              )
            : bytes(head, "note: ", sequence, "\ntoken: \"{{ secret('TOKEN') }}\"\n");
        const at =
          format === "json"
            ? Buffer.byteLength('{"t": "{{ secret(\'TOKEN\') }}",\n "c": "caf\u00e9 \uFFFD",\n "note": "')
            : offset;
        const dir = await files({ [name]: body });
        for (const command of ["render", "check"]) {
          const r = await cli([command, name, "-n", "company.team"], { cwd: dir });
          expect(r.code).toBe(3);
          expect(r.stdout).toBe("");
          expect(r.stderr).toContain(`${name} is not valid UTF-8 at byte offset ${at} (line 3)`);
        }
      });
    }
  }

  it("stdin (no file, and '-') fails the same way, naming <stdin>", async () => {
    const dir = await files({});
    const input = bytes("a: {{ secret('TOKEN') }}\nb: ", [0xff, 0xfe], "\n");
    for (const args of [["render"], ["render", "-"], ["check", "-"], ["render", "-", "--format", "yaml"]]) {
      const r = await cli([...args, "-n", "company.team"], { cwd: dir, stdin: input });
      expect(r.code).toBe(3);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("<stdin> is not valid UTF-8 at byte offset 28 (line 2)");
    }
  });

  it("valid UTF-8 (a BOM, 4-byte characters, a real U+FFFD) is rendered byte for byte", async () => {
    const text = bytes([0xef, 0xbb, 0xbf], "x: 😀 \uFFFD 中文 {{ secret('TOKEN') }}\n");
    const dir = await files({ "t.txt": text });
    const r = await cli(["render", "t.txt", "-n", "company.team"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes).toEqual(bytes([0xef, 0xbb, 0xbf], "x: 😀 \uFFFD 中文 tok-3f9a81c2-live\n"));
  });
});

describe("encode-env and import refuse a .env that is not UTF-8, without echoing it (trust issue #18 point 10)", () => {
  const env = bytes("API_TOKEN=abc123\nDB_PASSWORD=p", [0xe9], "ssw0rd-9f3k\n");
  const at = Buffer.byteLength("API_TOKEN=abc123\nDB_PASSWORD=p");

  it("encode-env FILE, encode-env from stdin, encode-env --check, import", async () => {
    const dir = await files({ ".env": env });
    const runs = [
      await cli(["encode-env", ".env"], { cwd: dir }),
      await cli(["encode-env"], { cwd: dir, stdin: env }),
      await cli(["encode-env", "--check", ".env"], { cwd: dir }),
      await cli(["import", ".env", "-n", "team", "--dry-run"], { cwd: dir }),
    ];
    for (const [i, r] of runs.entries()) {
      expect(r.code).toBe(3);
      expect(r.stdout).toBe("");
      const name = i === 1 ? "<stdin>" : ".env";
      expect(r.stderr).toContain(`${name} is not valid UTF-8 at byte offset ${at} (line 2)`);
      expect(r.stderr).not.toContain("ssw0rd");
    }
  });
});

describe("redact keeps bytes that are not UTF-8 exactly (trust issue #18 point 10, guard)", () => {
  it("masks the secret and passes every other byte through", async () => {
    const dir = await files({});
    const secret = "hunter2-prod-Xq9";
    const input = bytes("ok ", [0xff, 0xc0, 0x80], ` ${secret} `, [0xe2, 0x82], "\n");
    const r = await cli(["redact", "-n", "company.team"], {
      cwd: dir,
      stdin: input,
      env: { SECRET_DB: b64(secret) },
    });
    expect(r.code).toBe(0);
    expect(r.stdoutBytes).toEqual(bytes("ok ", [0xff, 0xc0, 0x80], " ****** ", [0xe2, 0x82], "\n"));
  });
});
