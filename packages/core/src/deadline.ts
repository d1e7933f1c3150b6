/** Deadlines: every resolve settles by its `timeoutMs`, whatever the backend does. */
import { setMaxListeners } from "node:events";
import { BackendUnavailableError } from "./errors.js";

/**
 * Settles with `promise`, or rejects with an unavailable error when `timeoutMs` passes or
 * `signal` aborts first. The timer never keeps the process alive.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
  backend?: string,
): Promise<T> {
  if (signal?.aborted) return Promise.reject(abortError(what, backend));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new BackendUnavailableError(`Timed out after ${timeoutMs} ms reading ${what}.`, { backend }));
    }, timeoutMs);
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

/** A signal that aborts after `timeoutMs` or when `parent` aborts. */
export function deadlineSignal(timeoutMs: number, parent?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = parent ? AbortSignal.any([parent, timeout]) : timeout;
  // Every level, replica and retry of one resolve listens to it: many listeners are expected.
  setMaxListeners(0, signal);
  return signal;
}
