/**
 * Audit events: what the router reports for each access and each watched change (never a value),
 * and a JSON-lines sink for them.
 */
import { appendFile } from "node:fs/promises";
import type { Outcome } from "./telemetry.js";

/** One access, for the audit trail. Never holds a value. */
export interface AuditEvent {
  /** ISO 8601 time of the access. */
  readonly time: string;
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
  /** The backend that answered or failed, if one was asked. */
  readonly backend: string | undefined;
  /** The namespace the value came from, when found (inheritance). */
  readonly foundIn: string | undefined;
  readonly executionId: string | undefined;
  readonly outcome: Outcome;
  /** `change`: a watched secret's version changed (`router.watch`); absent for an access. */
  readonly kind?: "change" | undefined;
  /** With `kind: "change"`: the version now (`undefined`: not found any more). */
  readonly version?: string | undefined;
  /** With `kind: "change"`: the version before (`undefined`: not found before). */
  readonly previousVersion?: string | undefined;
}

/** Takes audit events; may be async. Its failures are counted in `stats().auditFailures`. */
export type AuditSink = (event: AuditEvent) => void | Promise<void>;

/**
 * Appends each event as one JSON line to `path`. Writes are queued in order; a failed write
 * rejects, so the router counts it in `stats().auditFailures`.
 * @example
 * createRouter({ ..., audit: createJsonLinesAuditSink("/var/log/keyway-audit.jsonl") });
 */
export function createJsonLinesAuditSink(path: string): AuditSink {
  let queue: Promise<void> = Promise.resolve();
  return (event: AuditEvent) => {
    const line = `${JSON.stringify(event)}\n`;
    const write = queue.then(() => appendFile(path, line, { mode: 0o600 }));
    queue = write.catch(() => {});
    return write;
  };
}
