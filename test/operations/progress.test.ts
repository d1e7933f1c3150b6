// `keyway copy` progress: a bar redrawn with carriage returns on a terminal, plain lines otherwise
// (the plain lines are checked in packages/cli/test/move.test.ts). No server needed.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { runCli } from "@keyway/cli";
import { describe, expect, it } from "vitest";
import { tempDir } from "../setup/temp-dirs.js";

const CONFIG = `
backends:
  env: { type: env }
  dest: { type: memory }
namespaces:
  - { match: "", backend: env }
  - { match: team, backend: dest }
`;

/** A stderr that says it is a terminal, 80 columns wide, capturing what is drawn. */
function terminal(): Writable & { isTTY: boolean; columns: number; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return Object.assign(stream, { isTTY: true, columns: 80, text: () => Buffer.concat(chunks).toString() });
}

describe("copy progress on a terminal", () => {
  it("draws one bar redrawn in place, ends the line, and shows keys, never values", async () => {
    const dir = await tempDir("keyway-progress-");
    await writeFile(path.join(dir, "keyway.yaml"), CONFIG);
    const values = ["progress-value-one", "progress-value-two", "progress-value-three"];
    const env = Object.fromEntries(
      values.map((v, i) => [`SECRET_P${i + 1}`, Buffer.from(v).toString("base64")]),
    );
    const stderr = terminal();
    const code = await runCli(["copy", "--from-namespace", "", "--to-namespace", "team"], {
      stdin: Readable.from([]),
      stdout: new Writable({ write: (_c, _e, done) => done() }),
      stderr,
      env,
      cwd: dir,
    });
    const drawn = stderr.text();
    expect(code, drawn).toBe(0);
    const frames = drawn.split("\n")[0]?.split("\r").filter(Boolean) ?? [];
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^\[#+-+\] 1\/3 P1 +$/);
    expect(frames[2]).toMatch(/^\[#{40}\] 3\/3 P3 +$/); // 80 columns: a 40-wide bar, full at the end
    expect(drawn).not.toContain("copying 1/3"); // not the plain lines of a pipe
    expect(drawn).toContain("\ncreated 3, overwritten 0, skipped 0 existing.\n");
    for (const v of values) expect(drawn).not.toContain(v);
  });
});
