/**
 * The audit room: one record per access (a telemetry event while someone listens, an audit event
 * when a sink is set), never a value; a failing sink never breaks a resolve, and `close()` waits
 * for the writes in flight.
 */
import type { AuditEvent, AuditSink } from "../audit.js";
import type { SecretRef } from "../ref.js";
import type { ResolveOptions } from "../resolver.js";
import { channels, type Outcome, publish } from "../telemetry.js";
import type { SecretValue } from "../value.js";
import { PendingAudits } from "./pending-audits.js";

/** A value found by a resolve, where, and by which backend. */
export interface Found {
  readonly value: SecretValue;
  readonly namespace: string;
  readonly backend: string;
}

export class AccessRecorder {
  readonly #sink: AuditSink | undefined;
  #failures = 0;
  /** Audit writes in flight: close() waits for them. */
  readonly #pending = new PendingAudits();

  constructor(sink: AuditSink | undefined) {
    this.#sink = sink;
  }

  /** True when an access must be recorded even without a telemetry listener. */
  get auditing(): boolean {
    return this.#sink !== undefined;
  }

  /** Audit events the sink failed to take. */
  get failures(): number {
    return this.#failures;
  }

  /** Telemetry and audit for one access of `input` (as given); neither can break the resolve. */
  record(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    found: Found | undefined,
    outcome: Outcome,
    failedBackend?: string,
  ): void {
    const backend = found?.backend ?? failedBackend;
    const ref = recordable(input); // the ref as given: maybe not an object, maybe not strings
    // Checked here, not only in publish(), so an unobserved resolve allocates no event closure.
    if (channels.resolve.hasSubscribers)
      publish(channels.resolve, () => ({
        tenant: ref.tenant,
        namespace: ref.namespace,
        key: ref.key,
        backend,
        foundIn: found?.namespace,
        outcome,
        stale: found?.value.stale ?? false,
        // NaN: nobody listened when this (synchronous) resolve started.
        durationMs: Number.isNaN(started) ? 0 : performance.now() - started,
        executionId: options.executionId,
      }));
    if (!this.#sink) return;
    this.send({
      time: new Date().toISOString(),
      tenant: ref.tenant,
      namespace: ref.namespace,
      key: ref.key,
      backend,
      foundIn: found?.namespace,
      executionId: options.executionId,
      outcome,
    });
  }

  /** Hands one event to the sink, counting its failure. */
  send(event: AuditEvent): void {
    if (!this.#sink) return;
    try {
      const pending = this.#sink(event);
      if (pending) this.#pending.track(pending.catch(() => this.#failed()));
    } catch {
      this.#failed();
    }
  }

  /** Settles once every audit write so far has settled. */
  flush(): Promise<void> {
    return this.#pending.flush();
  }

  #failed(): void {
    if (this.#failures++ === 0) {
      process.emitWarning(
        "Keyway: the audit sink failed; failures are counted in stats().auditFailures.",
        "KeywayWarning",
      );
    }
  }
}

/** The fields of a ref as given, fit for telemetry and audit: strings, whatever the input was. */
export function recordable(input: unknown): SecretRef {
  const r = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    tenant: typeof r.tenant === "string" ? r.tenant : undefined,
    namespace: text(r.namespace),
    key: text(r.key),
  };
}
