/** One request and its response, as every face sees it, with what its audit line will say. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RouteRule, Router } from "@keyway/core";
import type { BackendCapabilities } from "@keyway/core/backend";
import type { ServeAuditEvent } from "./audit.js";
import type { Sessions, TokenCheck } from "./auth.js";

/** What the audit line of a request names; filled in by the face as it learns it. */
export interface AuditFields {
  face: ServeAuditEvent["face"];
  action: string;
  tenant?: string | undefined;
  namespace?: string | undefined;
  key?: string | undefined;
  outcome?: string | undefined;
}

export interface Exchange {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly method: string;
  /** The decoded path segments (see path.ts). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly audit: AuditFields;
}

/** What the server asks of a backend: its capabilities only (it reads and writes through the router). */
export interface ServedBackend {
  readonly capabilities: Partial<BackendCapabilities>;
}

/** What the faces share: the router, its rules, the token check, the console sessions, the limits. */
export interface ServeContext {
  readonly router: Router;
  readonly rules: readonly RouteRule[];
  /** Backend name → its type (`memory`, `vault`…), shown by the console and the API. */
  readonly backendTypes: Readonly<Record<string, string>>;
  /** Backend name → what it can do (compare-and-set makes PATCH and Create safe against races). */
  readonly backends: Readonly<Record<string, ServedBackend>>;
  readonly checkToken: TokenCheck;
  readonly sessions: Sessions;
  readonly maxBodyBytes: number;
}

/** Headers on every response: nothing cached, nothing sniffed, never framed, no referrer. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
});

/** Sends a JSON body. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * The agent's answer to a read, on its hot path: one JSON body with only the headers a program
 * reading it needs (no store, no sniffing), as a flat array Node writes without copying an object.
 */
export function sendAgentJson(response: ServerResponse, text: string): void {
  response.writeHead(200, [
    "Content-Type",
    "application/json",
    "Content-Length",
    String(Buffer.byteLength(text)),
    "Cache-Control",
    "no-store",
    "X-Content-Type-Options",
    "nosniff",
  ]);
  response.end(text);
}
