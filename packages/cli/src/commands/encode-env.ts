/**
 * `keyway encode-env`: a `.env` file → `SECRET_KEY=<base64>` lines, done right (the docs' shell
 * loop drops a last line without newline, encodes comments and quotes, and wraps at 76).
 * `--check` validates an encoded file line by line, never printing a value. Registered in program.ts.
 */
import path from "node:path";
import { decodeSecretValue } from "@keyway/backend-env";
import { isValidKey } from "@keyway/core/backend";
import { writeFileAtomic } from "../atomic-write.js";
import type { GlobalOptions } from "../context.js";
import { parseDotenv } from "../dotenv.js";
import { CliError, type CliIO, EXIT, readInput, write } from "../io.js";

export function encodeDotenv(source: string): string {
  const { entries, problems } = parseDotenv(source);
  if (problems.length) {
    throw new CliError(problems.map((p) => `line ${p.line}: ${p.message}`).join("\n"), EXIT.invalid);
  }
  return entries.map((e) => `SECRET_${e.key}=${Buffer.from(e.value, "utf8").toString("base64")}\n`).join("");
}

/** Every problem of an encoded file, by line; empty when it is fine. */
export function checkEncoded(source: string): string[] {
  const problems: string[] = [];
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  for (const [i, line] of lines.entries()) {
    if (/^\s*(#.*)?$/.test(line)) continue;
    const match = /^(SECRET_([^=]*))=(.*)$/.exec(line);
    if (!match) {
      problems.push(`line ${i + 1}: not a SECRET_KEY=base64 line`);
      continue;
    }
    const [, variable, key, value] = match as unknown as [string, string, string, string];
    if (!isValidKey(key)) {
      problems.push(`line ${i + 1}: ${variable.slice(0, 70)}: the key is not valid`);
      continue;
    }
    const decoded = decodeSecretValue(value);
    if (!decoded.ok)
      problems.push(
        `line ${i + 1}: ${variable}: ${decoded.reason}${decoded.hint ? ` (${decoded.hint})` : ""}`,
      );
  }
  return problems;
}

export async function encodeEnv(
  io: CliIO,
  _global: GlobalOptions,
  file: string | undefined,
  options: { output?: string; check?: string },
): Promise<void> {
  if (options.check !== undefined) {
    const problems = checkEncoded(await readInput(io, options.check));
    if (problems.length) throw new CliError(problems.join("\n"), EXIT.invalid);
    return;
  }
  const encoded = encodeDotenv(await readInput(io, file));
  if (options.output === undefined) return write(io.stdout, encoded);
  try {
    await writeFileAtomic(path.resolve(io.cwd, options.output), encoded);
  } catch (error) {
    throw new CliError(`Cannot write ${options.output}: ${(error as { code?: string }).code ?? "error"}.`);
  }
}
