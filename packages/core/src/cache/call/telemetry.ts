/**
 * The backend call's telemetry step: while anyone listens on `keyway:backend`, each request the
 * cache makes is timed and published with its outcome (a breaker's fast failure included). Names
 * only, never a value.
 */
import { isSecretsError, type SecretsErrorCode } from "../../errors.js";
import type { SecretRef } from "../../ref.js";
import { type BackendCallEvent, channels, publish } from "../../telemetry.js";

/** What a request is for, as `keyway:backend` reports it. */
export type Operation = BackendCallEvent["operation"];

/** Publishes the requests to one backend. */
export class CallTelemetry {
  constructor(
    private readonly backend: string,
    private readonly clock: { now(): number },
  ) {}

  /** Runs `request`, published with its outcome and duration. */
  async observe<T>(operation: Operation, refs: readonly SecretRef[], request: () => Promise<T>): Promise<T> {
    // The clock is read only for the event's duration, so only while someone listens.
    const started = channels.backend.hasSubscribers ? this.clock.now() : Number.NaN;
    const done = (outcome: "ok" | SecretsErrorCode) =>
      publish(channels.backend, () => ({
        backend: this.backend,
        operation,
        refs: refs.map(({ tenant, namespace, key }) => ({ tenant, namespace, key })),
        outcome,
        durationMs: Number.isNaN(started) ? 0 : this.clock.now() - started,
      }));
    try {
      const result = await request();
      done("ok");
      return result;
    } catch (error) {
      done(isSecretsError(error) ? error.code : "UNAVAILABLE");
      throw error;
    }
  }
}
