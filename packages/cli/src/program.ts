/**
 * The `keyway` command line: one commander program. Every command's name, arguments and options
 * are registered here, cheaply; its implementation (commands/<name>.ts) is imported when the
 * command runs, so a call loads only the code of its own command (`keyway get` with no config
 * file loads neither the config loader nor the other commands).
 */
import { createRequire } from "node:module";
import { Command, CommanderError, Option } from "commander";
import { ChildExit } from "./child-exit.js";
import type { GlobalOptions } from "./context.js";
import { CliError, type CliIO, EXIT, reportFailure } from "./io.js";

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
    .option("--json", "print where it was found and its metadata as JSON instead of the value")
    .action(lazy(async () => (await import("./commands/read.js")).get));

  program
    .command("list")
    .description("list key names, sorted, one a line (never values)")
    .option("-n, --namespace <ns>", "the namespace", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--inherited", "also keys inherited from ancestors, with the namespace each comes from")
    .option("--json", "one JSON array of { key, namespace, backend, description?, tags? }")
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
    .option("-n, --namespace <ns>", "the flow's namespace (default: the file's own top-level namespace:)")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--mode <mode>", "final | pebble | jinja", "final")
    .option("--format <format>", "yaml | json | text (default: by the file's extension; stdin is text)")
    .option("--strict", "in mode final, fail (exit 3, nothing written) when a secret() call is left in place")
    .option(
      "--allow-template-values",
      "in mode final, write values holding {{ {% {# as they are (only when no template engine reads the output)",
    )
    .action(lazy(async () => (await import("./commands/template.js")).render));

  program
    .command("check")
    .description("say whether each reference in a template would resolve, and where from (never the value)")
    .argument("[file]", "the template, or - for stdin")
    .option("-n, --namespace <ns>", "the flow's namespace (default: the file's own top-level namespace:)")
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
    .option("--strip-newline", "drop one trailing line break (\\n or \\r\\n) from stdin")
    .addOption(new Option("--trim-newline", "the old name of --strip-newline").hideHelp())
    .option("--allow-empty", "store an empty value (refused by default: an empty stdin is usually a mistake)")
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
      "copy stdin to stdout with secrets masked: every SECRET_ variable, the credentials Keyway holds, the --key secrets, and with --all every key the namespace's backends list (one paid read per key on cloud backends)",
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
    .option(
      "-e, --env <NAME=KEY>",
      "set NAME to the secret KEY, or to one top-level key of its JSON with KEY.subkey (repeatable)",
      collect,
      [],
    )
    .option(
      "--keep-env <NAME|PATTERN>",
      "pass this variable of keyway's own environment to the child although keyway holds it (SECRET_*, a backend credential, a ${VAR} of keyway.yaml); * matches any characters (repeatable)",
      collect,
      [],
    )
    .option(
      "--clean-env",
      "pass only the --env secrets, --keep-env and PATH, HOME, LANG, LC_*, TZ, TMPDIR, USER, SHELL, TERM",
    )
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
    .option("--json", "print the plan and each key's outcome as one JSON document (never a value)")
    .action(lazy(async () => (await import("./commands/move.js")).copy));

  program
    .command("import")
    .description("read a .env file (the encode-env dialect) into a writable namespace")
    .argument("<file>", "the .env file, or - for stdin")
    .requiredOption("-n, --namespace <ns>", "the destination namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--dry-run", "print the plan, write nothing")
    .option("--overwrite", "replace keys that already exist")
    .option("--json", "print the plan and each key's outcome as one JSON document (never a value)")
    .action(lazy(async () => (await import("./commands/move.js")).importDotenv));
  program
    .command("serve")
    .description(
      "serve the Kestra-shaped secrets API, the Secrets tab console and a local agent (AWS Secrets Manager Agent and Dapr secrets APIs) over the configured router",
    )
    .option(
      "--host <host>",
      "address to bind (not loopback: anyone who reaches it can try the token)",
      "127.0.0.1",
    )
    .option("--port <port>", "port to bind", "2773")
    .option(
      "--token-file <file>",
      "read the access token here (created with a new one when missing); else KEYWAY_SERVE_TOKEN, else a new 0600 file",
    )
    .option("--audit-file <file>", "append one JSON line per request here (default: stderr)")
    .option("--rate-limit <n>", "requests per second per client address, 0 for none (default 1000)")
    .action(lazy(async () => (await import("./commands/serve.js")).serve));

  program
    .command("completion")
    .description(
      "print a shell completion script: source <(keyway completion bash), or zsh; keyway completion fish | source",
    )
    .argument("<shell>", "bash, zsh or fish")
    .action(lazy(async () => (await import("./commands/completion.js")).completion));

  // Keyway's own encrypted store (@keyway/backend-store).
  const store = program.command("store").description("create Keyway's own encrypted store, rotate its key");
  store
    .command("init")
    .description("create a store and its key file (mode 0600), and print the keyway.yaml lines to add")
    .option("--path <dir>", "an embedded store in this folder (default: .keyway/store)")
    .option("--url <url>", "a PostgreSQL database instead (postgres://user@host:5432/db)")
    .option("--key-file <file>", "where to write the new key", ".keyway/store.key")
    .option("--name <name>", "the backend's name in the printed lines", "store")
    .action(lazy(async () => (await import("./commands/store.js")).init));
  store
    .command("rotate-key")
    .description("re-wrap every data key under a new key (no value re-encrypted); run again to resume")
    .requiredOption("--new-key-file <file>", "the new key: created (mode 0600) if missing, else read")
    .option("--backend <name>", "the store backend in keyway.yaml (default: the only one)")
    .action(lazy(async () => (await import("./commands/store.js")).rotateKey));

  program.addHelpText("after", HELP_AFTER);
  return program;
}

const HELP_AFTER = `
Examples:
  keyway get API_TOKEN -n company.team                   # the value, exactly, no newline
  keyway list -n company.team --inherited                # key names and where each comes from
  keyway render flow.yaml -n company.team > rendered.yaml
  keyway check flow.yaml -n company.team --json          # found / missing / denied / unavailable
  printf %s "$VALUE" | keyway put API_TOKEN -n company.team --description "CI token"
  keyway run -n company.team --env TOKEN=API_TOKEN -- ./task.sh

Exit codes:
  0 ok   1 other error   2 not found (secret, sub-key, disabled)
  3 invalid (reference, encoding, value, config, template)   4 denied or read-only
  5 backend unavailable; with several failures the highest of 5 > 4 > 3 > 2 wins.

Configuration: --config, else $KEYWAY_CONFIG, else ./keyway.yaml, else SECRET_* env variables.
Messages go to stderr and never contain a secret value.
`;

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
    return reportFailure(error, io);
  }
}
