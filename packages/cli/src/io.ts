/** The CLI's streams and exit codes, injectable so commands run in-process in tests. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { type SearchedLevel, SecretNotFoundError, SecretsError } from "@keyway/core";
import { CliError } from "./cli-error.js";
import type { CliIO } from "./cli-io.js";
import { EXIT, exitCodeFor } from "./exit-codes.js";
import { decodeUtf8 } from "./utf8.js";

export type { CliIO } from "./cli-io.js";

/**
 * The process's own streams, as getters: node builds each standard stream on first use (about a
 * millisecond for stdin), and most commands never read stdin or write to stderr.
 */
export function processIO(env: CliIO["env"]): CliIO {
  return {
    get stdin() {
      return process.stdin;
    },
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env,
    cwd: process.cwd(),
  };
}

export { CliError } from "./cli-error.js";
export { EXIT, exitCodeOf } from "./exit-codes.js";

/** Reads all of stdin as bytes. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

/**
 * Reads FILE, or stdin for `-` or no file, as UTF-8 text. Bytes that are not UTF-8 fail with exit
 * 3 naming the byte offset and line (utf8.ts), on every command that reads text this way.
 */
export async function readInput(io: CliIO, file: string | undefined): Promise<string> {
  if (file === undefined || file === "-") return decodeUtf8(await readAll(io.stdin), "<stdin>");
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(io.cwd, file));
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as { code?: string }).code ?? "error"}.`, EXIT.invalid);
  }
  return decodeUtf8(bytes, file);
}

/**
 * The message for stderr: Keyway errors are already redacted; a system error (EPIPE on a closed
 * pipe, EACCES, …) shows its code and call, never its message or path (which may hold anything);
 * anything else shows only its kind.
 */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof SecretNotFoundError && error.searched?.length)
    return { message: `${error.message} ${searchedText(error.searched)}`, exitCode: exitCodeFor(error.code) };
  if (error instanceof SecretsError) return { message: error.message, exitCode: exitCodeFor(error.code) };
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code === "string" && /^E[A-Z0-9]{2,20}$/.test(code)) {
    const call = typeof syscall === "string" && /^[a-z_]{1,20}$/.test(syscall) ? ` (${syscall})` : "";
    return { message: `system error ${code}${call}.`, exitCode: EXIT.other };
  }
  const name = error instanceof Error ? error.name : typeof error;
  return { message: `unexpected ${name}; run with KEYWAY_DEBUG=1 for details`, exitCode: EXIT.other };
}

/** "Searched 'a.b' and 'a' in backend 'team', then the root in backend 'env'." */
export function searchedText(searched: ReadonlyArray<SearchedLevel>): string {
  const runs: Array<{ backend: string; namespaces: string[] }> = [];
  for (const { namespace, backend } of searched) {
    const last = runs.at(-1);
    const shown = namespace === "" ? "the root" : `'${namespace}'`;
    if (last?.backend === backend) last.namespaces.push(shown);
    else runs.push({ backend, namespaces: [shown] });
  }
  const list = (items: string[]) =>
    items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
  return `Searched ${runs.map((r) => `${list(r.namespaces)} in backend '${r.backend}'`).join(", then ")}.`;
}

/**
 * Says on stderr why a command failed (never a value) and returns its exit code. With
 * KEYWAY_DEBUG=1 the stack follows, through the redactor (debug.ts, loaded only then).
 */
export async function reportFailure(error: unknown, io: CliIO): Promise<number> {
  const { message, exitCode } = describeError(error);
  if (message) io.stderr.write(`keyway: ${message}\n`);
  if (io.env.KEYWAY_DEBUG === "1" && error instanceof Error) {
    const { debugText } = await import("./debug.js");
    io.stderr.write(`${await debugText(io, error)}\n`);
  }
  return exitCode;
}

/** Writes `text`; a failed write (EPIPE: the reader went away) rejects, and is reported once, from there. */
export function write(stream: Writable, text: string | Uint8Array): Promise<void> {
  // The stream also emits the error as an event, which would otherwise be thrown as uncaught.
  if (!stream.listeners("error").includes(ignore)) stream.on("error", ignore);
  return new Promise((resolve, reject) => stream.write(text, (error) => (error ? reject(error) : resolve())));
}

const ignore = () => {};
