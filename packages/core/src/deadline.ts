/** Deadlines: every resolve settles by its `timeoutMs`, whatever the backend does. */
import { BackendUnavailableError } from "./errors.js";
import type { ResolveOptions } from "./resolver.js";

/**
 * The key under which a router hands each resolver its one deadline for a resolve (a
 * `performance.now()` time): every level and replica asked waits at most until then. A number
 * and the timer each wait has anyway, not an `AbortSignal` per resolve: `AbortSignal.timeout`
 * (timer, weak references, listeners) was most of a cold burst's CPU time on Node 20.
 */
export const DEADLINE_AT = Symbol("keyway.deadlineAt");

/** Resolve options with the router's deadline. */
export type DeadlineOptions = ResolveOptions & { [DEADLINE_AT]?: number | undefined };

/**
 * Settles with `promise`, or rejects with an unavailable error when `timeoutMs` passes (or the
 * sooner `deadlineAt`, a `performance.now()` time) or `signal` aborts first. The timer never keeps
 * the process alive.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
  backend?: string,
  deadlineAt?: number,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(what, backend));
  // Rounded up: a timer never fires early, so the router sees its deadline passed when it does.
  const ms =
    deadlineAt === undefined ? timeoutMs : Math.min(timeoutMs, Math.ceil(deadlineAt - performance.now()));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        cleanup();
        reject(new BackendUnavailableError(`Timed out after ${ms} ms reading ${what}.`, { backend }));
      },
      Math.max(0, ms),
    );
    timer.unref?.();
    const onAbort = () => {
      cleanup();
      reject(abortError(what, backend));
    };
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

function abortError(what: string, backend?: string): BackendUnavailableError {
  return new BackendUnavailableError(`Reading ${what} was aborted by the caller.`, { backend });
}
