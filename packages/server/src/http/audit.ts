/** The server's audit trail: one JSON line per request, with the caller, never a value. */
import type { Writable } from "node:stream";

/** One request, as audited. */
export interface ServeAuditEvent {
  /** ISO 8601 time the request ended. */
  readonly time: string;
  /** Which face answered: the Kestra-shaped API, the console, an agent API, or none (refused early). */
  readonly face: "api" | "console" | "aws-agent" | "dapr-agent" | "server";
  /** Who asked: the client address and, when known, its console session or user agent. */
  readonly caller: { readonly address: string; readonly userAgent?: string | undefined };
  readonly method: string;
  /** What was asked: list, inherited, put, patch, delete, get, bulk, login… */
  readonly action: string;
  readonly tenant?: string | undefined;
  readonly namespace?: string | undefined;
  readonly key?: string | undefined;
  readonly status: number;
  /** `ok`, or the error code (NOT_FOUND, UNAUTHORIZED, RATE_LIMITED…). */
  readonly outcome: string;
}

/** Where audit events go. `flush` resolves once every event written so far is handed to the OS. */
export interface AuditLog {
  write(event: ServeAuditEvent): void;
  flush(): Promise<void>;
}

/**
 * Appends events as JSON lines to a stream (a 0600 file, or stderr). Lines are batched per tick, so
 * an agent answering tens of thousands of reads a second makes one write per batch, not per read.
 */
export function createJsonLinesAuditLog(stream: Writable): AuditLog {
  let batch: string[] = [];
  let scheduled = false;
  let failed = false;
  const drain = () => {
    scheduled = false;
    if (batch.length === 0) return;
    const text = batch.join("");
    batch = [];
    stream.write(text);
  };
  stream.on("error", () => {
    if (!failed) process.emitWarning("Keyway serve: the audit log cannot be written.", "KeywayWarning");
    failed = true;
  });
  return {
    write(event) {
      batch.push(`${JSON.stringify(event)}\n`);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    flush() {
      drain();
      return new Promise((resolve) => {
        if (failed || stream.writableLength === 0) return resolve();
        stream.write("", () => resolve());
      });
    },
  };
}

/** An audit log that drops everything (tests that do not look at it). */
export const NO_AUDIT: AuditLog = { write() {}, flush: async () => {} };
