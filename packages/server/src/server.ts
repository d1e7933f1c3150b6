/**
 * `keyway serve`'s HTTP server: one node:http server, one dispatcher, three faces over one router.
 * node:http with a small dispatcher rather than a framework: the agent's cached read is the hot
 * path, and the bench (bench/cases/serve.mjs) holds it to half a bare Node server's throughput.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RouteRule, Router } from "@keyway/core";
import { handleAwsAgent } from "./agent/aws.js";
import { handleDaprAgent } from "./agent/dapr.js";
import { handleApi } from "./api/routes.js";
import { handleConsole } from "./console/routes.js";
import { type AuditLog, NO_AUDIT } from "./http/audit.js";
import { createTokenCheck, Sessions } from "./http/auth.js";
import { failureOf, HttpError } from "./http/errors.js";
import {
  type AuditFields,
  BASE_HEADERS,
  type Exchange,
  type ServeContext,
  type ServedBackend,
  sendJson,
} from "./http/exchange.js";
import { pathSegments } from "./http/path.js";
import { createRateLimiter, type RateLimitOptions } from "./http/rate-limit.js";

const AWS_GET: readonly string[] = Object.freeze(["secretsmanager", "get"]);

/** What `createKeywayServer` takes. */
export interface KeywayServerOptions {
  /** The router every face reads and writes through. The server does not close it. */
  router: Router;
  /** The router's rules: the namespace tree, and the Dapr stores. */
  rules: readonly RouteRule[];
  /** The bearer token every request but `/ping` needs (at least 16 characters). */
  token: string;
  /** Backend name → type, shown as "served by". @default {} */
  backendTypes?: Readonly<Record<string, string>> | undefined;
  /**
   * The router's backends by name, for their capabilities: where a namespace's backend has
   * `compareAndSet`, PATCH writes at the version it read and the console's Create writes with
   * `ifVersion: ""`, so a concurrent write is a 409 instead of a lost update or an overwrite.
   * A backend not given here is treated as one without compare-and-set. @default {}
   */
  backends?: Readonly<Record<string, ServedBackend>> | undefined;
  /** @default "127.0.0.1" */
  host?: string | undefined;
  /** 0 picks a free port. @default 2773 */
  port?: number | undefined;
  /** Gets one event per request. @default none */
  audit?: AuditLog | undefined;
  /** Per-client rate limit. @default 1000 requests/s, bursts of 2000 */
  rateLimit?: RateLimitOptions | undefined;
  /** The largest request body accepted. @default 1 MiB */
  maxBodyBytes?: number | undefined;
  /** The largest request head accepted (Node answers 431 past it). @default 16 KiB */
  maxHeaderBytes?: number | undefined;
  /** A client has this long to send its request head (slow clients get 408). @default 10 s */
  headersTimeoutMs?: number | undefined;
  /** …and this long for the whole request. @default 30 s */
  requestTimeoutMs?: number | undefined;
  /** On close, in-flight requests get this long before their connections are cut. @default 10 s */
  drainTimeoutMs?: number | undefined;
}

/** A running (or ready to run) `keyway serve`. */
export interface KeywayServer {
  /** Starts listening; resolves with the address once bound. `/ping` answers 503 until `ready()`. */
  listen(): Promise<{ url: string; host: string; port: number }>;
  /** Lets `/ping` answer 200: call once the router is prepared. */
  ready(): void;
  /**
   * Graceful shutdown: stops accepting, lets in-flight requests finish (up to `drainTimeoutMs`),
   * closes idle keep-alive connections, then flushes the audit log.
   */
  close(): Promise<void>;
  /** The node:http server, for tests and embedders. */
  readonly http: Server;
}

/**
 * Creates the server.
 * @example
 * const server = createKeywayServer({ router, rules, token: process.env.KEYWAY_SERVE_TOKEN });
 * const { url } = await server.listen();
 * server.ready();
 */
export function createKeywayServer(options: KeywayServerOptions): KeywayServer {
  const context: ServeContext = {
    router: options.router,
    rules: options.rules,
    backendTypes: options.backendTypes ?? {},
    backends: options.backends ?? {},
    checkToken: createTokenCheck(options.token),
    sessions: new Sessions(),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
  };
  const audit = options.audit ?? NO_AUDIT;
  const limit = createRateLimiter(options.rateLimit);
  let isReady = false;
  let closing = false;

  const headersTimeout = options.headersTimeoutMs ?? 10_000;
  const server = createServer(
    {
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      headersTimeout,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      // How often Node looks for clients past those timeouts (its default, 30 s, lets a slow client hold a socket that long).
      connectionsCheckingInterval: Math.min(1000, Math.max(10, headersTimeout / 2)),
      keepAliveTimeout: 5_000,
    },
    (request, response) => {
      void handle(request, response);
    },
  );
  // A request head too large or malformed: Node's own 4xx, on a socket we then close.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const status =
      error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
    const reason =
      status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
    socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const fields: AuditFields = { face: "server", action: "request" };
    const address = addressOf(request);
    if (closing) response.setHeader("Connection", "close");
    try {
      const target = request.url ?? "/";
      const queryAt = target.indexOf("?");
      const pathname = queryAt < 0 ? target : target.slice(0, queryAt);
      // The raw target, not `new URL()`: URL parsing resolves `..` and `%2e%2e` before we could refuse them.
      if (pathname === "/ping") {
        fields.action = "ping";
        fields.outcome = isReady ? "ok" : "NOT_READY";
        response.writeHead(isReady ? 200 : 503, { ...BASE_HEADERS, "Content-Type": "text/plain" });
        response.end(isReady ? "healthy" : "starting");
        return;
      }
      limit(address);
      // The agent's read, the hot path, has a fixed path with nothing to decode.
      const segments = pathname === "/secretsmanager/get" ? AWS_GET : pathSegments(pathname);
      const exchange: Exchange = {
        request,
        response,
        method: request.method ?? "GET",
        segments,
        query: new URLSearchParams(queryAt < 0 ? "" : target.slice(queryAt + 1)),
        audit: fields,
      };
      const first = segments[0];
      if (first === "secretsmanager") await handleAwsAgent(exchange, context);
      else if (first === "v1.0") await handleDaprAgent(exchange, context);
      else if (first === "api" && segments[1] === "v1") await handleApi(exchange, context);
      else if (first === undefined || first === "" || first === "console")
        await handleConsole(exchange, context);
      else throw new HttpError(404, "NO_ROUTE", "No such route.");
    } catch (error) {
      const failure = failureOf(error);
      fields.outcome = failure.code;
      if (!response.headersSent)
        sendJson(response, failure.status, { code: failure.code, message: failure.message }, failure.headers);
    } finally {
      const userAgent = request.headers["user-agent"];
      audit.write({
        time: isoNow(),
        face: fields.face,
        caller: { address, userAgent: userAgent?.slice(0, 200) },
        method: request.method ?? "",
        action: fields.action,
        tenant: fields.tenant,
        namespace: fields.namespace,
        key: fields.key,
        status: response.statusCode,
        outcome: fields.outcome ?? (response.statusCode < 400 ? "ok" : "ERROR"),
      });
      // A body we refused (413) may still be arriving: do not keep reading it.
      if (!request.complete && response.getHeader("Connection") === "close") request.socket.destroySoon();
    }
  }

  return {
    http: server,
    listen() {
      const host = options.host ?? "127.0.0.1";
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 2773, host, () => {
          server.off("error", reject);
          const { port } = server.address() as AddressInfo;
          const shown = host.includes(":") ? `[${host}]` : host;
          resolve({ url: `http://${shown}:${port}`, host, port });
        });
      });
    },
    ready() {
      isReady = true;
    },
    async close() {
      closing = true;
      isReady = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drain = setTimeout(() => server.closeAllConnections(), options.drainTimeoutMs ?? 10_000);
      drain.unref();
      await closed;
      clearTimeout(drain);
      await audit.flush();
    },
  };
}

/** Each socket's peer address, read once per connection (`remoteAddress` asks the OS each time). */
const addresses = new WeakMap<object, string>();
function addressOf(request: IncomingMessage): string {
  const socket = request.socket;
  let address = addresses.get(socket);
  if (address === undefined) {
    address = socket.remoteAddress ?? "unknown";
    addresses.set(socket, address);
  }
  return address;
}

/** The time as ISO 8601, formatted once per millisecond however many requests end in it. */
let lastMs = 0;
let lastIso = "";
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}
