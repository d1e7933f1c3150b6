/**
 * `keyway run --watch`: the child runs while its secrets are watched (`router.watch`); when one
 * changes, the secrets are resolved again (so the redactor masks the new value too) and the child
 * is restarted with them (`--restart`: SIGTERM, the grace period, then SIGKILL, then a new child)
 * or signalled (`--signal HUP`: the child keeps its environment and reloads on its own). The exit
 * code is the child's, as without `--watch`: that of the child that ends on its own (a child
 * stopped for a restart has no say).
 */
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { isSecretsError, type Router, type SecretRef, type SecretsError, type Watch } from "@keyway/core";
import { CliError, type CliIO } from "../io.js";

/** A child being run: its process, and its exit code once its output is written. */
export interface Running {
  readonly child: ChildProcess;
  readonly exit: Promise<number>;
}

/** What `--watch` does on a change. */
export type OnChange =
  | { readonly kind: "restart"; readonly graceMs: number }
  | { readonly kind: "signal"; readonly signal: NodeJS.Signals };

export interface WatchRunOptions {
  readonly onChange: OnChange;
  /** How often each secret's version is probed. */
  readonly intervalMs: number;
}

/** Reads the `--watch`, `--restart`, `--signal`, `--interval` and `--grace` flags; bad ones are usage errors. */
export function watchRunOptions(flags: {
  watch?: boolean;
  restart?: boolean;
  signal?: string;
  interval?: string;
  grace?: string;
}): WatchRunOptions | undefined {
  const { watch, restart, signal, interval, grace } = flags;
  if (!watch) {
    if (restart || signal !== undefined || interval !== undefined || grace !== undefined)
      throw new CliError("--restart, --signal, --interval and --grace go with --watch.");
    return undefined;
  }
  if (restart && signal !== undefined) throw new CliError("--restart and --signal exclude each other.");
  if (signal !== undefined && grace !== undefined) throw new CliError("--grace goes with --restart.");
  const intervalMs = milliseconds(interval, "--interval", 30_000, 100);
  if (signal === undefined)
    return { intervalMs, onChange: { kind: "restart", graceMs: milliseconds(grace, "--grace", 10_000, 0) } };
  const name = (/^SIG/i.test(signal) ? signal : `SIG${signal}`).toUpperCase();
  if (!Object.hasOwn(constants.signals, name) || name === "SIGKILL" || name === "SIGSTOP")
    throw new CliError(`--signal takes a signal name such as HUP or USR1, not '${signal}'.`);
  return { intervalMs, onChange: { kind: "signal", signal: name as NodeJS.Signals } };
}

function milliseconds(text: string | undefined, flag: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const ms = /^\d{1,10}$/.test(text) ? Number(text) : Number.NaN;
  if (!(ms >= min && ms <= 2_147_483_647))
    throw new CliError(`${flag} takes a number of milliseconds, at least ${min}.`);
  return ms;
}

/**
 * Runs `start(env)` and supervises it while `refs` are watched; resolves with the exit code of the
 * child that ends on its own. `resolveEnv` reads the secrets again (all of them, failures together).
 */
export function superviseWatching(
  router: Router,
  refs: readonly SecretRef[],
  firstEnv: Record<string, string | undefined>,
  resolveEnv: () => Promise<Record<string, string | undefined>>,
  start: (env: Record<string, string | undefined>) => Running,
  io: CliIO,
  options: WatchRunOptions,
): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let current = start(firstEnv);
    let finished = false;
    let busy = false;
    let pending: string | undefined;
    const replaced = new WeakSet<Running>();
    const failing = new Set<string>();
    const say = (line: string) => io.stderr.write(`keyway: ${line}\n`);

    const end = (outcome: () => void) => {
      if (finished) return;
      finished = true;
      for (const watch of watches) watch.close();
      outcome();
    };
    const follow = (running: Running) =>
      running.exit.then(
        (code) => {
          if (!replaced.has(running)) end(() => resolve(code));
        },
        (error: unknown) => end(() => reject(error)),
      );

    /** One change (or several, folded): read again, then restart or signal. */
    const changed = async (key: string) => {
      pending = key;
      if (busy) return;
      busy = true;
      try {
        while (pending !== undefined && !finished) {
          const what = pending;
          pending = undefined;
          let env: Record<string, string | undefined>;
          try {
            env = await resolveEnv();
          } catch (error) {
            const code = isSecretsError(error) ? error.code : "ERROR";
            say(
              `secret '${what}' changed but the secrets cannot be read again (${code}); the child keeps the values it has.`,
            );
            continue;
          }
          if (finished) return;
          if (options.onChange.kind === "signal") {
            say(`secret '${what}' changed; sending ${options.onChange.signal} to the child.`);
            current.child.kill(options.onChange.signal);
            continue;
          }
          say(`secret '${what}' changed; restarting the child.`);
          const old = current;
          replaced.add(old);
          await stop(old, options.onChange.graceMs);
          if (finished) return;
          current = start(env);
          follow(current);
        }
      } catch (error) {
        end(() => reject(error));
      } finally {
        busy = false;
      }
    };

    const report = (key: string) => (error: SecretsError) => {
      // The first failure of a streak is shown; a success (a later change) starts a new streak.
      if (failing.has(key)) return;
      failing.add(key);
      say(`watching secret '${key}' failed (${error.code}): ${error.message} Watching goes on.`);
    };
    const watches: Watch[] = [];
    try {
      for (const ref of refs)
        watches.push(
          router.watch(
            ref,
            (change) => {
              failing.delete(ref.key);
              void changed(change.ref.key);
            },
            { intervalMs: options.intervalMs, onError: report(ref.key) },
          ),
        );
    } catch (error) {
      current.child.kill("SIGTERM");
      end(() => reject(error));
      return;
    }
    follow(current);
  });
}

/** SIGTERM, then SIGKILL after `graceMs` if it is still running; resolves once it has exited. */
async function stop(running: Running, graceMs: number): Promise<void> {
  const exited = running.exit.then(
    () => true,
    () => true,
  );
  if (running.child.exitCode !== null || running.child.signalCode !== null) return void (await exited);
  running.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const inTime = await Promise.race([exited, graceOver]);
  clearTimeout(timer);
  if (!inTime) running.child.kill("SIGKILL");
  await exited;
}
