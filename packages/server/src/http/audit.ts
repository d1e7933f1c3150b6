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
 * Appends events as JSON lines to a stream (a 0600 file, or stderr). Lines are batched for up to
 * `batchMs` or 64 KiB, so an agent answering tens of thousands of reads a second makes a few
 * writes a second, not one per read; `flush()` (called on shutdown) writes what is pending.
 */
export function createJsonLinesAuditLog(stream: Writable, options: { batchMs?: number } = {}): AuditLog {
  const batchMs = options.batchMs ?? 50;
  let batch = "";
  let timer: NodeJS.Timeout | undefined;
  let failed = false;
  const drain = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (batch === "") return;
    const text = batch;
    batch = "";
    stream.write(text);
  };
  stream.on("error", () => {
    if (!failed) process.emitWarning("Keyway serve: the audit log cannot be written.", "KeywayWarning");
    failed = true;
  });
  return {
    write(event) {
      batch += `${JSON.stringify(event)}\n`;
      if (batch.length >= 65_536) drain();
      else if (timer === undefined) {
        timer = setTimeout(drain, batchMs);
        timer.unref();
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
