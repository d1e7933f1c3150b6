/**
 * The backend call: every request the cache makes to its backend, as one named, ordered pipeline.
 * A read goes through these steps, outermost first (each is its own file here):
 *
 * 1. **deadline** (`deadline.ts`): the load gets a signal that aborts at 90% of `timeoutMs` (the
 *    rest is the caller's margin to turn it into a clean error) or when the fetch is aborted.
 * 2. **retry** (`retry.ts`): an unavailable answer is tried again, with jittered backoff, within
 *    that deadline; other answers (not-found, denied) are final.
 * 3. **batch** (`batch.ts`): loads started in one tick become one `getMany`, when the backend has
 *    one (not for a pinned version).
 * 4. **telemetry** (`telemetry.ts`): the request is timed and published on `keyway:backend`.
 * 5. **breaker** (`breaker.ts`): while the backend is marked down, it fails fast; its answer
 *    opens or closes the circuit.
 * 6. the backend's own method (counted as a backend call).
 *
 * A watch's version probe takes steps 1, 4, 5 and 6: it is not retried (the next poll is) and
 * never batched.
 */
import type { SecretBackend } from "../../backend.js";
import { BackendUnavailableError } from "../../errors.js";
import type { SecretRef } from "../../ref.js";
import type { SecretValue } from "../../value.js";
import { toSecretsError } from "../failure.js";
import { Batcher } from "./batch.js";
import { type BreakerOptions, CircuitBreaker } from "./breaker.js";
import { loadSignal } from "./deadline.js";
import { type RetryOptions, withRetry } from "./retry.js";
import { CallTelemetry, type Operation } from "./telemetry.js";

export interface BackendCallOptions {
  /** Every resolve settles within this time; a load's signal aborts at 90% of it. */
  readonly timeoutMs: number;
  readonly retry: RetryOptions | undefined;
  readonly breaker: BreakerOptions | undefined;
  /** Durations and the breaker's cool-down. */
  readonly clock: { now(): number };
  /** Random source for the retries' jitter. */
  readonly random: () => number;
}

/** The pipeline over one backend. */
export class BackendCall {
  /** Requests that reached the backend (what `stats().backendCalls` reports). */
  sent = 0;
  readonly #backend: SecretBackend;
  readonly #options: BackendCallOptions;
  readonly #telemetry: CallTelemetry;
  readonly #breaker: CircuitBreaker;
  readonly #batcher: Batcher | undefined;

  constructor(backend: SecretBackend, options: BackendCallOptions) {
    this.#backend = backend;
    this.#options = options;
    this.#telemetry = new CallTelemetry(backend.name, options.clock);
    this.#breaker = new CircuitBreaker(backend.name, options.breaker, options.clock);
    const getMany = backend.getMany?.bind(backend);
    if (getMany)
      this.#batcher = new Batcher((refs, signal) =>
        this.#send("getMany", refs, async () => {
          const results = await getMany(refs, { signal });
          // A batch that got no answer at all is an outage, for the breaker and telemetry alike
          // (getMany reports per-ref failures as values, so nothing would reach the breaker).
          const answers = [...results.values()];
          if (answers.length > 0 && answers.every((r) => r instanceof BackendUnavailableError))
            throw answers[0];
          return results;
        }),
      );
  }

  /**
   * Steps 1 to 6: one read of `ref` (a pinned `version`, or the current one), within `parent`
   * (the fetch's signal). Whatever fails is a Keyway error; an abort by the deadline a timeout.
   */
  async read(ref: SecretRef, version: string | undefined, parent: AbortSignal): Promise<SecretValue> {
    const { retry, random } = this.#options;
    const { signal, done } = this.#deadline(parent);
    try {
      return await withRetry(() => this.#batchOrGet(ref, version, signal), retry, signal, random);
    } catch (raw) {
      throw toSecretsError(raw, this.#backend.name, signal, ref);
    } finally {
      done();
    }
  }

  /**
   * Steps 1, 4, 5 and 6 for a watch: the backend's `probeVersion`, else a `get` (the caller
   * compares the value's version or digest). A probe that answers no version is an outage, not a
   * change. Whatever fails is a Keyway error.
   */
  async probe(ref: SecretRef, parent: AbortSignal): Promise<string | SecretValue> {
    const backend = this.#backend;
    const { signal, done } = this.#deadline(parent);
    try {
      const probeVersion = backend.probeVersion?.bind(backend);
      if (!probeVersion) return await this.#send("get", [ref], () => backend.get(ref, { signal }));
      return await this.#send("probeVersion", [ref], async () => {
        const version: unknown = await probeVersion(ref, { signal });
        if (typeof version === "string" && version !== "") return version;
        throw new BackendUnavailableError(`Backend '${backend.name}' answered no version.`, {
          backend: backend.name,
        });
      });
    } catch (raw) {
      throw toSecretsError(raw, backend.name, signal, ref);
    } finally {
      done();
    }
  }

  /**
   * Step 1: the signal the backend gets, aborted at 90% of `timeoutMs` (the rest is the caller's
   * margin to turn it into a clean error) or with `parent`. `done()` stops its timer.
   */
  #deadline(parent: AbortSignal): { signal: AbortSignal; done: () => void } {
    return loadSignal(Math.max(1, Math.floor(this.#options.timeoutMs * 0.9)), parent);
  }

  /** Step 3: batched when the backend has `getMany` and no version is pinned. */
  #batchOrGet(ref: SecretRef, version: string | undefined, signal: AbortSignal): Promise<SecretValue> {
    if (this.#batcher && version === undefined) return this.#batcher.load(ref, signal);
    return this.#send("get", [ref], () => this.#backend.get(ref, { signal, version }));
  }

  /** Steps 4 to 6: published, through the breaker, counted when it reaches the backend. */
  #send<T>(operation: Operation, refs: readonly SecretRef[], request: () => Promise<T>): Promise<T> {
    return this.#telemetry.observe(operation, refs, () =>
      this.#breaker.run(() => {
        this.sent++;
        return request();
      }),
    );
  }
}
