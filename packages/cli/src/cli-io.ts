/**
 * The streams, environment and working directory a command runs with: the process's own
 * (`processIO` in io.ts), or a test's. Its own module, so the modules io.ts loads (debug.ts and
 * what it reads) can name it without importing io.ts back.
 */
import type { Readable, Writable } from "node:stream";

export interface CliIO {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}
