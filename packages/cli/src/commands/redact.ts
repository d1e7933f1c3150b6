/**
 * `keyway redact` (stdin → stdout with secrets masked, streaming) and `keyway run` (a command
 * with chosen secrets in its environment and its output redacted).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { pipeline } from "node:stream/promises";
import { decodeSecretValue, readSecretVariables } from "@keyway/backend-env";
import { isSecretsError, type Redactor, type Router, type SecretRef, type SecretValue } from "@keyway/core";
import type { Command } from "commander";
import { withRouter } from "../context.js";
import { CliError, type CliIO, EXIT, exitCodeOf } from "../io.js";
import { ChildExit } from "../program.js";

const collect = (value: string, all: string[]) => [...all, value];

/** Registers every `SECRET_` variable: decoded, and its raw text too in case plaintext was put there. */
function registerEnvSecrets(redactor: Redactor, env: CliIO["env"]): void {
  for (const variable of readSecretVariables(env)) {
    redactor.register(variable.raw, { key: variable.variable });
    const decoded = decodeSecretValue(variable.raw);
    if (decoded.ok) redactor.register(decoded.value, { key: variable.key });
  }
}

/** Resolves every ref at once (the router registers each value); all failures reported together. */
async function resolveAll(router: Router, refs: readonly SecretRef[]): Promise<Map<SecretRef, SecretValue>> {
  const results = await router.resolveMany(refs);
  const failures = [...results.values()].filter(isSecretsError);
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new CliError(failures.map((f) => f.message).join("\n"), exitCodeOf(failures));
  return results as Map<SecretRef, SecretValue>;
}

export function registerRedactCommands(program: Command, io: CliIO): void {
  program
    .command("redact")
    .description(
      "copy stdin to stdout with secrets masked: every SECRET_ variable, the --key secrets, and with --all every key the namespace's backends list (one paid read per key on cloud backends)",
    )
    .option("-n, --namespace <ns>", "the namespace of --key and --all", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-k, --key <key>", "also mask this secret (repeatable)", collect, [])
    .option("--all", "also mask every key listed in the namespace and its ancestors")
    .action(async (options: { namespace: string; tenant?: string; key: string[]; all?: boolean }) => {
      await withRouter(io, program.opts(), async (router) => {
        registerEnvSecrets(router.redactor, io.env);
        const listed = options.all
          ? await router.list(options.namespace, { tenant: options.tenant, inherited: true })
          : [];
        const keys = new Set([...options.key, ...listed.map((l) => l.key)]);
        await resolveAll(
          router,
          [...keys].map((key) => ({ key, namespace: options.namespace, tenant: options.tenant })),
        );
        await pipeline(io.stdin, router.redactor.stream(), io.stdout, { end: false });
      });
    });

  program
    .command("run")
    .description("run a command with secrets in its environment and its stdout and stderr redacted")
    .requiredOption("-n, --namespace <ns>", "the namespace to resolve secrets in")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-e, --env <NAME=KEY>", "set NAME to the secret KEY (repeatable)", collect, [])
    .argument("<command>", "the command (after --)")
    .argument("[args...]", "its arguments")
    .action(
      async (
        command: string,
        args: string[],
        options: { namespace: string; tenant?: string; env: string[] },
      ) => {
        const pairs = options.env.map((pair) => {
          const eq = pair.indexOf("=");
          if (eq <= 0) throw new CliError(`--env takes NAME=KEY, e.g. --env DB_PASSWORD=DB_PASSWORD.`);
          return { name: pair.slice(0, eq), key: pair.slice(eq + 1) };
        });
        const code = await withRouter(io, program.opts(), async (router) => {
          registerEnvSecrets(router.redactor, io.env);
          const refs = pairs.map((p) => ({
            key: p.key,
            namespace: options.namespace,
            tenant: options.tenant,
          }));
          const values = await resolveAll(router, refs);
          const env: Record<string, string | undefined> = { ...io.env };
          pairs.forEach((p, i) => {
            env[p.name] = values.get(refs[i] as SecretRef)?.reveal();
          });
          return runRedacted(command, args, env, router.redactor, io);
        });
        throw new ChildExit(code);
      },
    );
}

/** Spawns the child with its output through the redactor; resolves with its exit code (128+n for a signal). */
function runRedacted(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  redactor: Redactor,
  io: CliIO,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["inherit", "pipe", "pipe"] });
    const piped = Promise.all([
      pipeline(child.stdout, redactor.stream(), io.stdout, { end: false }),
      pipeline(child.stderr, redactor.stream(), io.stderr, { end: false }),
    ]);
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(
        new CliError(
          `Cannot run ${command}: ${error.code ?? "error"}.`,
          error.code === "ENOENT" ? 127 : EXIT.other,
        ),
      ),
    );
    child.on("close", (code, signal) => {
      const exit = code ?? 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
      piped.then(() => resolve(exit), reject);
    });
  });
}
