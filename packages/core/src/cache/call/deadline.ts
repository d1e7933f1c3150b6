/** Deadlines: every resolve settles by its `timeoutMs`, whatever the backend does. */
import { setMaxListeners } from "node:events";
import { BackendUnavailableError } from "../../errors.js";
import type { ResolveOptions } from "../../resolver.js";

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

/**
 * Settles with `promise`, or rejects with an unavailable error (`<what> was aborted by the
 * caller.`) as soon as `signal` aborts: for work whose own cancellation cannot be trusted.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  what: string,
  backend?: string,
): Promise<T> {
  if (!signal) return promise;
  const aborted = () =>
    new BackendUnavailableError(`${what} was aborted by the caller.`, { backend, cause: signal.reason });
  if (signal.aborted) {
    promise.catch(() => {}); // settles unobserved
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function abortError(what: string, backend?: string): BackendUnavailableError {
  return new BackendUnavailableError(`Reading ${what} was aborted by the caller.`, { backend });
}

/**
 * The signal a load hands the backend: aborted after `timeoutMs` (as `AbortSignal.timeout`, with a
 * `TimeoutError`) or when `lru-cache` aborts the fetch (with its reason), whichever comes first;
 * `done()` stops the timer once the load is over. This is what
 * `AbortSignal.any([parent, AbortSignal.timeout(ms)])` would build, which on Node 20 costs about
 * 20 µs and several weak references per load: in a cold burst that was most of the CPU time after
 * the backend's own. Here: one controller, one timer, one listener.
 */
export function loadSignal(
  timeoutMs: number,
  parent: AbortSignal,
): { signal: AbortSignal; done: () => void } {
  const controller = new AbortController();
  // One load's signal fans out to every request of it (batch chunks, retries, SDK internals):
  // more than Node's default of 10 listeners is expected, not a leak.
  setMaxListeners(0, controller.signal);
  if (parent.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, done: () => {} };
  }
  const timer = setTimeout(
    () => controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")),
    timeoutMs,
  );
  timer.unref();
  const onAbort = () => {
    clearTimeout(timer);
    controller.abort(parent.reason);
  };
  parent.addEventListener("abort", onAbort, { once: true });
  return {
    signal: controller.signal,
    done: () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onAbort);
    },
  };
}
