/**
 * The `keyway` command line: one commander program. Every command's name, arguments and options
 * are registered here, cheaply; its implementation (commands/<name>.ts) is imported when the
 * command runs, so a call loads only the code of its own command (`keyway get` with no config
 * file loads neither the config loader nor the other commands).
 */
import { createRequire } from "node:module";
import { Command, CommanderError } from "commander";
import type { GlobalOptions } from "./context.js";
import { CliError, type CliIO, describeError, EXIT } from "./io.js";

/** A command's implementation: the CLI's streams, the global options, then commander's arguments. */
export type CommandAction<A extends unknown[]> = (
  io: CliIO,
  global: GlobalOptions,
  ...args: A
) => Promise<void>;

const collect = (value: string, all: string[]) => [...all, value];

function collectTag(value: string, tags: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new CliError(`--tag takes key=value, e.g. --tag team=payments.`);
  tags[value.slice(0, eq)] = value.slice(eq + 1);
  return tags;
}

export function buildProgram(io: CliIO): Command {
  const program = new Command("keyway")
    .description("Resolve, render, check, write and redact workflow secrets from many secret managers.")
    .option(
      "-c, --config <file>",
      "keyway.yaml to use (default: $KEYWAY_CONFIG, else ./keyway.yaml, else env secrets)",
    )
    // By package name, not a relative path: the bundler may move this module into dist/shared/.
    .version(createRequire(import.meta.url)("@keyway/cli/package.json").version, "-V, --version")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  // Imports the implementation when the command runs; commander's trailing Command argument is ignored.
  const lazy =
    <A extends unknown[]>(load: () => Promise<CommandAction<A>>) =>
    async (...args: A) =>
      (await load())(io, program.opts(), ...args);

  program
    .command("get")
    .description("print a secret's value exactly (no trailing newline)")
    .argument("<key>", "the secret's key")
    .option("-n, --namespace <ns>", "the namespace to read from (its ancestors are searched too)", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-s, --subkey <subkey>", "a top-level key of a JSON value")
    .action(lazy(async () => (await import("./commands/read.js")).get));

  program
    .command("list")
    .description("list key names, sorted, one a line (never values)")
    .option("-n, --namespace <ns>", "the namespace", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--inherited", "also keys inherited from ancestors, with the namespace each comes from")
    .action(lazy(async () => (await import("./commands/read.js")).list));

  program
    .command("expression")
    .description("print the template expression for a key")
    .argument("<key>", "the secret's key")
    .option("-n, --namespace <ns>", "read from another namespace (namespace='…')")
    .action(lazy(async () => (await import("./commands/read.js")).expression));

  program
    .command("render")
    .description("render {{ secret('…') }} expressions in a file (or stdin)")
    .argument("[file]", "the template, or - for stdin")
    .requiredOption("-n, --namespace <ns>", "the flow's namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--mode <mode>", "final | pebble | jinja", "final")
    .option("--format <format>", "yaml | json | text (default: by the file's extension; stdin is text)")
    .option("--strict", "in mode final, fail (exit 3, nothing written) when a secret() call is left in place")
    .action(lazy(async () => (await import("./commands/template.js")).render));

  program
    .command("check")
    .description("say whether each reference in a template would resolve, and where from (never the value)")
    .argument("[file]", "the template, or - for stdin")
    .requiredOption("-n, --namespace <ns>", "the flow's namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--json", "one JSON document for machines")
    .option("--format <format>", "yaml | json | text (default: by the file's extension; stdin is text)")
    .action(lazy(async () => (await import("./commands/template.js")).check));

  program
    .command("put")
    .description("write a secret; the value is read from stdin, byte for byte (argv shows in `ps`)")
    .argument("<key>", "the secret's key")
    .requiredOption("-n, --namespace <ns>", "the namespace to write to")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--description <text>", "a description")
    .option("--tag <key=value>", "a tag (repeatable)", collectTag, {})
    .option("--trim-newline", "drop one trailing newline from stdin")
    .action(lazy(async () => (await import("./commands/write.js")).put));

  program
    .command("delete")
    .description("delete a secret")
    .argument("<key>", "the secret's key")
    .requiredOption("-n, --namespace <ns>", "the namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .action(lazy(async () => (await import("./commands/write.js")).remove));

  program
    .command("encode-env")
    .description("turn a .env file into SECRET_KEY=<base64> lines for Kestra-style env secrets")
    .argument("[file]", "the .env file, or - for stdin")
    .option("-o, --output <file>", "write here instead of stdout (atomically: all or nothing)")
    .option("--check <file>", "validate an already encoded file instead; names every bad line")
    .action(lazy(async () => (await import("./commands/encode-env.js")).encodeEnv));

  program
    .command("redact")
    .description(
      "copy stdin to stdout with secrets masked: every SECRET_ variable, the --key secrets, and with --all every key the namespace's backends list (one paid read per key on cloud backends)",
    )
    .option("-n, --namespace <ns>", "the namespace of --key and --all", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-k, --key <key>", "also mask this secret (repeatable)", collect, [])
    .option("--all", "also mask every key listed in the namespace and its ancestors")
    .action(lazy(async () => (await import("./commands/redact.js")).redact));

  program
    .command("run")
    .description("run a command with secrets in its environment and its stdout and stderr redacted")
    .requiredOption("-n, --namespace <ns>", "the namespace to resolve secrets in")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-e, --env <NAME=KEY>", "set NAME to the secret KEY (repeatable)", collect, [])
    .option("--watch", "watch the --env secrets; when one changes, read them again and restart the child")
    .option(
      "--restart",
      "with --watch: restart the child on a change (SIGTERM, --grace, then SIGKILL); the default",
    )
    .option("--signal <name>", "with --watch: send this signal (e.g. HUP) on a change instead of restarting")
    .option("--interval <ms>", "with --watch: how often each secret's version is checked (default 30000)")
    .option("--grace <ms>", "with --restart: how long the child has to exit after SIGTERM (default 10000)")
    .argument("<command>", "the command (after --)")
    .argument("[args...]", "its arguments")
    .action(lazy(async () => (await import("./commands/redact.js")).run));

  program
    .command("copy")
    .description("copy every key the source namespace's rule can list into the destination namespace's rule")
    .requiredOption("--from-namespace <ns>", "the source namespace (its own keys, not inherited ones)")
    .requiredOption("--to-namespace <ns>", "the destination namespace (a writable rule)")
    .option("-t, --tenant <tenant>", "the tenant of both")
    .option("--dry-run", "print the plan (create / skip / overwrite per key), write nothing")
    .option("--overwrite", "replace keys that already exist in the destination")
    .action(lazy(async () => (await import("./commands/move.js")).copy));

  program
    .command("import")
    .description("read a .env file (the encode-env dialect) into a writable namespace")
    .argument("<file>", "the .env file, or - for stdin")
    .requiredOption("-n, --namespace <ns>", "the destination namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--dry-run", "print the plan, write nothing")
    .option("--overwrite", "replace keys that already exist")
    .action(lazy(async () => (await import("./commands/move.js")).importDotenv));
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
