/** Runs the CLI in-process with captured streams. */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { runCli } from "../src/index.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk, _enc, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
}

export async function cli(
  argv: string[],
  options: { env?: Record<string, string | undefined>; stdin?: string | Buffer; cwd?: string } = {},
): Promise<CliResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const code = await runCli(argv, {
    stdin,
    stdout: sink(out),
    stderr: sink(err),
    env: options.env ?? {},
    cwd: options.cwd ?? (await tempDir("keyway-cli-")),
  });
  const stdoutBytes = Buffer.concat(out);
  return {
    code,
    stdout: stdoutBytes.toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
    stdoutBytes,
  };
}

/** A temp dir with files in it, removed after the test file. */
export async function tempFiles(files: Record<string, string>): Promise<string> {
  const dir = await tempDir("keyway-cli-");
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text);
  return dir;
}

export const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
