/**
 * Keyway's retries: exponential backoff with full jitter, bounded in count and by the caller's
 * deadline, and only for unavailable errors. The vendor SDKs' own retries are off, so attempts
 * never multiply.
 */
import { BackendUnavailableError } from "../../errors.js";

export interface RetryOptions {
  /** Total attempts, the first included. @default 3 */
  attempts?: number | undefined;
  /** Backoff before the second attempt; doubles each time. @default 50 */
  baseDelayMs?: number | undefined;
  /** Cap on one backoff. @default 1000 */
  maxDelayMs?: number | undefined;
}

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1000 };

/**
 * Runs `attempt` until it succeeds, throws anything but {@link BackendUnavailableError}, runs out
 * of attempts, or `signal` aborts (then the last error is thrown).
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: RetryOptions = {},
  signal?: AbortSignal,
  random: () => number = Math.random,
): Promise<T> {
  const { attempts, baseDelayMs, maxDelayMs } = { ...DEFAULT_RETRY, ...options };
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof BackendUnavailableError) || n >= attempts || signal?.aborted) throw error;
      const delay = random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
      if (!(await sleep(delay, signal))) throw error;
    }
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
