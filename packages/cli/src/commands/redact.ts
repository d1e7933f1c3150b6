/**
 * `keyway redact` (stdin → stdout with secrets masked, streaming) and `keyway run` (a command
 * with chosen secrets in its environment and its output redacted; with `--watch`, restarted or
 * signalled when one of them changes: see watch-run.ts). Registered in program.ts.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { pipeline } from "node:stream/promises";
import { isSecretsError, type Redactor, type Router, type SecretRef, type SecretValue } from "@keyway/core";
import { ChildExit } from "../child-exit.js";
import { type GlobalOptions, sessionOf, withRouter } from "../context.js";
import { heldVariables, registerHeld } from "../held.js";
import { CliError, type CliIO, EXIT, exitCodeOf } from "../io.js";
import { checkCommand, childEnvFlags, childEnvironment } from "./child-env.js";
import { type Running, superviseWatching, watchRunOptions } from "./watch-run.js";

/** Resolves every ref at once (the router registers each value); all failures reported together. */
async function resolveAll(router: Router, refs: readonly SecretRef[]): Promise<Map<SecretRef, SecretValue>> {
  const results = await router.resolveMany(refs);
  const failures = [...results.values()].filter(isSecretsError);
  if (failures.length) throw failureOf(failures);
  return results as Map<SecretRef, SecretValue>;
}

/** One failure as itself; several as one message, each line one failure, with the worst exit code. */
function failureOf(failures: readonly unknown[]): unknown {
  if (failures.length === 1 || !failures.every(isSecretsError)) return failures[0];
  return new CliError(failures.map((f) => f.message).join("\n"), exitCodeOf(failures));
}

export async function redact(
  io: CliIO,
  global: GlobalOptions,
  options: { namespace: string; tenant?: string; key: string[]; all?: boolean },
): Promise<void> {
  await withRouter(io, global, async (router) => {
    // Every value Keyway holds (SECRET_*, the backends' credentials, the config's ${VAR}s), as `run` does.
    registerHeld(router.redactor, io.env, await heldVariables(sessionOf(io).environment));
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
    keepEnv?: string[];
    cleanEnv?: boolean;
    watch?: boolean;
    restart?: boolean;
    signal?: string;
    interval?: string;
    grace?: string;
  },
): Promise<void> {
  const watching = watchRunOptions(options);
  const flags = childEnvFlags(options);
  checkCommand(command, args);
  const code = await withRouter(io, global, async (router) => {
    // What Keyway holds is masked before anything runs, and kept from the child (child-env.ts).
    const held = await heldVariables(sessionOf(io).environment);
    registerHeld(router.redactor, io.env, held);
    const refs = flags.pairs.map((p) => ({
      key: p.key,
      namespace: options.namespace,
      tenant: options.tenant,
    }));
    // The same on every restart under --watch.
    const resolveEnv = async () => {
      // The whole secrets first, in one batch; then the sub-keys, from the cache it just filled.
      await resolveAll(router, refs);
      const leaves = await Promise.allSettled(
        refs.map((ref, i) => router.resolve(ref, { subkey: flags.pairs[i]?.subkey })),
      );
      const failures = leaves.flatMap((l) => (l.status === "rejected" ? [l.reason] : []));
      if (failures.length) throw failureOf(failures);
      const revealed = leaves.map((l) => (l as PromiseFulfilledResult<SecretValue>).value.reveal());
      return childEnvironment(io.env, flags, revealed, held);
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
  const child = spawnChecked(command, args, env);
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

/** `spawn`, whose own errors quote the offending option (an env value, an argument): only the code is kept. */
function spawnChecked(command: string, args: string[], env: Record<string, string | undefined>) {
  try {
    return spawn(command, args, { env, stdio: ["inherit", "pipe", "pipe"] });
  } catch (error) {
    throw new CliError(
      `Cannot run ${command}: ${(error as { code?: string }).code ?? "error"}.`,
      EXIT.invalid,
    );
  }
}
