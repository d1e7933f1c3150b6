/**
 * What the watches need from whoever hosts them (the router), as a small interface the host passes
 * in: the watches import nothing of the router.
 */
import type { AuditEvent } from "../audit.js";
import type { SecretBackend } from "../backend.js";
import type { SecretRef } from "../ref.js";
import type { SecretValue } from "../value.js";

/** One namespace level a watched ref is looked up at, climbing from its own namespace. */
export interface WatchLevel {
  /** The ref at this level (validated). */
  readonly ref: SecretRef;
  /** Its cache id: the levels of one backend with the same id share one poll. */
  readonly id: string;
  /** What a resolve reports as the namespace a value found here comes from. */
  readonly foundIn: string;
  /** The name of the backend that serves this level. */
  readonly backend: string;
  /**
   * One version probe of `ref`: the backend's `probeVersion`, else its value (compared by version,
   * else by a digest). Through the breaker and within the deadline, as reads are (`probe` in
   * cache/resolver.ts). Throws a typed error; not-found is an answer.
   */
  probe(signal: AbortSignal): Promise<string | SecretValue>;
}

/** The audit record of a change: an `AuditEvent` with `kind: "change"`. Never a value. */
export type ChangeAudit = AuditEvent & {
  readonly executionId: undefined;
  readonly outcome: "ok";
  readonly kind: "change";
};

/** What the watches need from the router. */
export interface WatchHost {
  /** The levels a validated ref is looked up at, climbing (throws a typed error when no rule serves it). */
  levels(ref: SecretRef): readonly WatchLevel[];
  /** Drops the cached entries of `ref` in every resolver. */
  invalidate(ref: SecretRef): void;
  /** Sends one event to the audit sink (its failures are the host's to count). */
  audit(event: ChangeAudit): void;
  /** The backend of that name: its `subscribe` pushes changes; its capabilities say how keys compare. */
  backend(name: string): SecretBackend | undefined;
  /** How long a backend's `subscribe` may take before its watches poll instead (the router's `timeoutMs`). */
  timeoutMs(): number;
}
