/**
 * A circuit breaker per backend: after `threshold` unavailable answers in a row the backend is
 * marked down for `cooldownMs`, so callers fail fast (or get a stale value) instead of piling
 * up; then one probe is let through (half-open), and its answer closes or reopens the circuit.
 */
import { BackendUnavailableError } from "../../errors.js";
import { channels, publish } from "../../telemetry.js";

export interface BreakerOptions {
  /** Unavailable answers in a row that open the circuit; `0` disables the breaker. @default 5 */
  threshold?: number | undefined;
  /** How long the backend stays marked down before a probe. @default 5000 */
  cooldownMs?: number | undefined;
}

export class CircuitBreaker {
  #failures = 0;
  #openUntil = 0;
  #probing = false;
  readonly #threshold: number;
  readonly #cooldownMs: number;

  constructor(
    private readonly backend: string,
    options: BreakerOptions = {},
    private readonly clock: { now(): number } = performance,
  ) {
    this.#threshold = options.threshold ?? 5;
    this.#cooldownMs = options.cooldownMs ?? 5000;
  }

  get state(): "closed" | "open" | "half-open" {
    if (this.#openUntil === 0) return "closed";
    return this.clock.now() < this.#openUntil ? "open" : "half-open";
  }

  /** Runs `call` unless the circuit is open; records its outcome. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#threshold <= 0) return call();
    const state = this.state;
    if (state === "open" || (state === "half-open" && this.#probing)) {
      const ms = Math.max(0, Math.ceil(this.#openUntil - this.clock.now()));
      throw new BackendUnavailableError(
        `Backend '${this.backend}' is marked down after ${this.#failures} failures in a row; next try in ${ms} ms.`,
        { backend: this.backend },
      );
    }
    const probe = state === "half-open";
    if (probe) {
      this.#probing = true;
      publish(channels.breaker, () => ({
        backend: this.backend,
        state: "half-open",
        failures: this.#failures,
      }));
    }
    try {
      const result = await call();
      this.#succeeded();
      return result;
    } catch (error) {
      if (error instanceof BackendUnavailableError) this.#failed();
      else this.#succeeded(); // the backend answered: not-found and denied are answers
      throw error;
    } finally {
      if (probe) this.#probing = false;
    }
  }

  #succeeded(): void {
    const wasOpen = this.#openUntil !== 0;
    this.#failures = 0;
    this.#openUntil = 0;
    if (wasOpen) publish(channels.breaker, () => ({ backend: this.backend, state: "closed", failures: 0 }));
  }

  #failed(): void {
    this.#failures++;
    if (this.#failures >= this.#threshold) {
      this.#openUntil = this.clock.now() + this.#cooldownMs;
      publish(channels.breaker, () => ({ backend: this.backend, state: "open", failures: this.#failures }));
    }
  }
}
