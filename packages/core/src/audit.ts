/** A JSON-lines audit sink: one line per access, appended, never a value. */
import { appendFile } from "node:fs/promises";
import type { AuditEvent, AuditSink } from "./router.js";

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
