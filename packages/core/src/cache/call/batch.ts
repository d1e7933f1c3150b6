/** One `getMany` for the loads started in the same tick. */
import { setMaxListeners } from "node:events";
import type { GetManyResult } from "../../backend.js";
import { BackendUnavailableError } from "../../errors.js";
import type { SecretRef } from "../../ref.js";
import { SecretValue } from "../../value.js";

/**
 * Collects the loads started in one tick into a single `getMany`, so a template's secrets (or a
 * burst of callers) cost one batch request. Single-flight per key stays with lru-cache.
 */
export class Batcher {
  #queue: Array<{ ref: SecretRef; signal: AbortSignal; settle: (result: SecretValue | Error) => void }> = [];

  constructor(private readonly getMany: (refs: SecretRef[], signal: AbortSignal) => Promise<GetManyResult>) {}

  load(ref: SecretRef, signal: AbortSignal): Promise<SecretValue> {
    return new Promise((resolve, reject) => {
      if (this.#queue.length === 0) queueMicrotask(() => void this.#flush());
      this.#queue.push({ ref, signal, settle: (r) => (r instanceof SecretValue ? resolve(r) : reject(r)) });
    });
  }

  async #flush(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    const refs = batch.map((item) => item.ref);
    const signal = batch.length === 1 ? batch[0]?.signal : AbortSignal.any(batch.map((item) => item.signal));
    if (signal) setMaxListeners(0, signal);
    try {
      const results = await this.getMany(refs, signal as AbortSignal);
      for (const item of batch) {
        const result = results.get(item.ref);
        item.settle(
          result ?? new BackendUnavailableError(`The batch read returned nothing for '${item.ref.key}'.`),
        );
      }
    } catch (error) {
      for (const item of batch) item.settle(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
