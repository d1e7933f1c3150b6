/**
 * `keyway redact` (stdin → stdout with secrets masked, streaming) and `keyway run` (a command
 * with chosen secrets in its environment and its output redacted; with `--watch`, restarted or
 * signalled when one of them changes: see watch-run.ts). Registered in program.ts.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { pipeline } from "node:stream/promises";
import { decodeSecretValue, readSecretVariables } from "@keyway/backend-env";
import { isSecretsError, type Redactor, type Router, type SecretRef, type SecretValue } from "@keyway/core";
import { type GlobalOptions, withRouter } from "../context.js";
import { CliError, type CliIO, EXIT, exitCodeOf } from "../io.js";
import { ChildExit } from "../program.js";
import { type Running, superviseWatching, watchRunOptions } from "./watch-run.js";

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

export async function redact(
  io: CliIO,
  global: GlobalOptions,
  options: { namespace: string; tenant?: string; key: string[]; all?: boolean },
): Promise<void> {
  await withRouter(io, global, async (router) => {
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
}

export async function run(
  io: CliIO,
  global: GlobalOptions,
  command: string,
  args: string[],
  options: {
    namespace: string;
    tenant?: string;
    env: string[];
    watch?: boolean;
    restart?: boolean;
    signal?: string;
    interval?: string;
    grace?: string;
  },
): Promise<void> {
  const watching = watchRunOptions(options);
  const pairs = options.env.map((pair) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new CliError(`--env takes NAME=KEY, e.g. --env DB_PASSWORD=DB_PASSWORD.`);
    return { name: pair.slice(0, eq), key: pair.slice(eq + 1) };
  });
  const code = await withRouter(io, global, async (router) => {
    registerEnvSecrets(router.redactor, io.env);
    const refs = pairs.map((p) => ({
      key: p.key,
      namespace: options.namespace,
      tenant: options.tenant,
    }));
    const resolveEnv = async () => {
      const values = await resolveAll(router, refs);
      const env: Record<string, string | undefined> = { ...io.env };
      pairs.forEach((p, i) => {
        env[p.name] = values.get(refs[i] as SecretRef)?.reveal();
      });
      return env;
    };
    const env = await resolveEnv();
    const start = (childEnv: Record<string, string | undefined>) =>
      startRedacted(command, args, childEnv, router.redactor, io);
    if (!watching) return start(env).exit;
    return superviseWatching(router, refs, env, resolveEnv, start, io, watching);
  });
  throw new ChildExit(code);
}

/** Spawns the child with its output through the redactor; `exit` is its exit code (128+n for a signal). */
function startRedacted(
  command: string,
  args: string[],
  env: Record<string, string | undefined>,
  redactor: Redactor,
  io: CliIO,
): Running {
  const child = spawn(command, args, { env, stdio: ["inherit", "pipe", "pipe"] });
  const piped = Promise.all([
    pipeline(child.stdout, redactor.stream(), io.stdout, { end: false }),
    pipeline(child.stderr, redactor.stream(), io.stderr, { end: false }),
  ]);
  const exit = new Promise<number>((resolve, reject) => {
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
  return { child, exit };
}
