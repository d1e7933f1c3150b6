/** The `keyway` command line: one commander program, commands registered from `commands/`. */
import { Command, CommanderError } from "commander";
import { registerEncodeEnvCommand } from "./commands/encode-env.js";
import { registerMoveCommands } from "./commands/move.js";
import { registerReadCommands } from "./commands/read.js";
import { registerRedactCommands } from "./commands/redact.js";
import { registerTemplateCommands } from "./commands/template.js";
import { registerWriteCommands } from "./commands/write.js";
import { type CliIO, describeError, EXIT } from "./io.js";

export function buildProgram(io: CliIO): Command {
  const program = new Command("keyway")
    .description("Resolve, render, check, write and redact workflow secrets from many secret managers.")
    .option(
      "-c, --config <file>",
      "keyway.yaml to use (default: $KEYWAY_CONFIG, else ./keyway.yaml, else env secrets)",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  registerReadCommands(program, io);
  registerTemplateCommands(program, io);
  registerWriteCommands(program, io);
  registerEncodeEnvCommand(program, io);
  registerRedactCommands(program, io);
  registerMoveCommands(program, io);
  return program;
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 * Messages go to stderr and never contain a secret value.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.other;
    if (error instanceof ChildExit) return error.code;
    const { message, exitCode } = describeError(error);
    if (message) io.stderr.write(`keyway: ${message}\n`);
    if (io.env.KEYWAY_DEBUG === "1" && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return exitCode;
  }
}

/** Thrown by `keyway run` to pass the child's exit code through. */
export class ChildExit extends Error {
  constructor(readonly code: number) {
    super(`child exited with ${code}`);
  }
}
