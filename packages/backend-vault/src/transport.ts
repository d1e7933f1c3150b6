/**
 * The HTTP transport Keyway plugs into node-vault (its `request-promise` option).
 *
 * Why not node-vault's own axios transport: it forwards neither an AbortSignal nor anything but
 * a fixed list of options to axios, so the resolver's deadline could not cancel a request; and an
 * axios error carries the request config, X-Vault-Token header included (node-vault #50, #124).
 * This one uses node:http(s), honours `signal` and a per-request timeout, never retries and never
 * follows redirects (a 3xx comes back as a status, mapped to unavailable), and its errors hold
 * only a message and a code.
 */

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { networkDetail } from "@keyway/core/backend";

/** What node-vault hands its transport. */
export interface TransportRequest {
  method: string;
  uri: string;
  headers?: Record<string, string> | undefined;
  json?: unknown;
  signal?: AbortSignal | undefined;
}

/** What node-vault expects back. */
export interface TransportResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

export interface TransportOptions {
  /** Per-request timeout in milliseconds. */
  timeoutMs: number;
  /** Extra CA certificates (PEM) to trust for an https endpoint. */
  caCert?: string | undefined;
}

/** A transport failure: no response. `code` is Node's (ECONNREFUSED…), `ETIMEDOUT` or `ABORT_ERR`. */
export class VaultTransportError extends Error {
  override readonly name = "VaultTransportError";
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** node-vault calls `defaults(rpDefaults)` once and then the function it returns per request. */
export function createTransport(options: TransportOptions): {
  defaults(): (req: TransportRequest) => Promise<TransportResponse>;
} {
  return { defaults: () => (req) => send(req, options) };
}

function send(req: TransportRequest, options: TransportOptions): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.uri);
    if (req.signal?.aborted)
      return reject(new VaultTransportError("The Vault request was aborted.", "ABORT_ERR"));
    const body = typeof req.json === "object" && req.json !== null ? JSON.stringify(req.json) : undefined;
    const headers: Record<string, string> = { accept: "application/json", ...req.headers };
    if (body !== undefined) {
      headers["content-type"] ??= "application/json";
      headers["content-length"] = String(Buffer.byteLength(body));
    }
    const open = url.protocol === "https:" ? httpsRequest : httpRequest;
    const tls = url.protocol === "https:" && options.caCert ? { ca: options.caCert } : {};
    let settled = false;
    const fail = (error: VaultTransportError) => {
      if (settled) return;
      settled = true;
      cleanup();
      request.destroy();
      reject(error);
    };
    const onAbort = () => fail(new VaultTransportError("The Vault request was aborted.", "ABORT_ERR"));
    const timer = setTimeout(
      () =>
        fail(
          new VaultTransportError(`The Vault request timed out after ${options.timeoutMs} ms.`, "ETIMEDOUT"),
        ),
      options.timeoutMs,
    );
    const cleanup = () => {
      clearTimeout(timer);
      req.signal?.removeEventListener("abort", onAbort);
    };
    req.signal?.addEventListener("abort", onAbort, { once: true });
    const request = open(url, { method: req.method, headers, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", (e: NodeJS.ErrnoException) => fail(networkError(e)));
      res.on("end", () => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({
          statusCode: res.statusCode ?? 0,
          body: parseBody(Buffer.concat(chunks)),
          request: { path: url.pathname },
        });
      });
    });
    request.on("error", (e: NodeJS.ErrnoException) => fail(networkError(e)));
    request.end(body);
  });
}

/** Vault answers JSON; anything else (a proxy's HTML page) is dropped rather than echoed in errors. */
function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Keeps Node's error code and the address it failed on (`ECONNREFUSED 127.0.0.1:8200`: what the
 * reader needs to fix it), and a message that names no header, body or credential.
 */
function networkError(error: NodeJS.ErrnoException): VaultTransportError {
  const code = typeof error.code === "string" ? error.code : "ECONNRESET";
  return new VaultTransportError(`The Vault request failed (${networkDetail(error) ?? code}).`, code);
}
