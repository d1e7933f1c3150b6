/**
 * Waiting on Key Vault's asynchronous operations (delete, recover, purge) without outliving the
 * caller: every wait honours the caller's signal, and a poll count bounds it when none is given.
 */
import { setTimeout } from "node:timers/promises";
import { BackendUnavailableError } from "@keyway/core/backend";

/** Polls of a delete or recovery in progress before giving up (without a signal, the only bound). */
export const MAX_POLLS = 120;

/** An SDK long-running-operation poller, as far as Keyway uses it. */
export interface Poller {
  isDone(): boolean;
  poll(options?: { abortSignal?: AbortSignal | undefined }): Promise<void>;
}

/**
 * Polls until done; unlike `pollUntilDone`, the wait honours `signal`. The delete poller keeps
 * polling through the 404s Azure answers on `deletedsecrets/{name}` for seconds after a DELETE.
 * @throws BackendUnavailableError after {@link MAX_POLLS} polls; an AbortError when `signal` aborts
 */
export async function settle(
  poller: Poller,
  what: string,
  options: { backend: string; pollIntervalMs: number; signal?: AbortSignal | undefined },
): Promise<void> {
  for (let polls = 0; !poller.isDone(); polls++) {
    if (polls >= MAX_POLLS) {
      throw new BackendUnavailableError(`Azure Key Vault: ${what} still in progress after ${polls} polls.`, {
        backend: options.backend,
      });
    }
    await sleep(options.pollIntervalMs, options.signal);
    await poller.poll({ abortSignal: options.signal });
  }
}

/** Resolves after `ms`; rejects with an AbortError as soon as `signal` aborts (Node's own timer). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return setTimeout(ms, undefined, { signal });
}
