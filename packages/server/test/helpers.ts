/** A server on a free loopback port over a memory-backed router, for the tests. */
import { request as httpRequest } from "node:http";
import type { RouteRule, Router } from "@keyway/core";
import { createMemoryBackend, createRouter, type SecretBackend } from "@keyway/core";
import { type AuditLog, createKeywayServer, type KeywayServer, type ServeAuditEvent } from "../src/index.js";

export const TOKEN = "test-token-0123456789abcdef";

/** The rules most tests use: company.team writable, company.ro read-only, company above both. */
export const RULES: RouteRule[] = [
  { match: "company", backend: "main" },
  { match: "company.team", backend: "team" },
  { match: "company.ro", backend: "team", readOnly: true },
  { match: "company", tenant: "acme", backend: "acme" },
];

export interface Running {
  url: string;
  server: KeywayServer;
  router: Router;
  backends: Record<string, SecretBackend>;
  events: ServeAuditEvent[];
  close(): Promise<void>;
}

/** Starts a server; `options` passes through to createKeywayServer. */
export async function start(
  options: Partial<Parameters<typeof createKeywayServer>[0]> & { rules?: RouteRule[] } = {},
): Promise<Running> {
  const backends: Record<string, SecretBackend> = {
    main: createMemoryBackend({ name: "main", initial: { "company/SHARED": "shared-value" } }),
    team: createMemoryBackend({ name: "team", initial: { "company.team/API_TOKEN": "t0ken-value" } }),
    acme: createMemoryBackend({ name: "acme" }),
  };
  const router = options.router ?? createRouter({ backends, rules: options.rules ?? RULES });
  const events: ServeAuditEvent[] = [];
  const audit: AuditLog = { write: (event) => events.push(event), flush: async () => {} };
  const server = createKeywayServer({
    router,
    rules: options.rules ?? RULES,
    token: TOKEN,
    port: 0,
    backendTypes: { main: "memory", team: "memory", acme: "memory" },
    backends,
    audit,
    ...options,
  });
  const { url } = await server.listen();
  server.ready();
  return {
    url,
    server,
    router,
    backends,
    events,
    async close() {
      await server.close();
      await router.close();
    },
  };
}

export const bearer = { authorization: `Bearer ${TOKEN}` };
export const jsonBearer = { ...bearer, "content-type": "application/json" };

/** A request with its path sent byte for byte (fetch would resolve `..` before sending). */
export function rawRequest(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: import("node:http").IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const request = httpRequest(
      { hostname, port, path, method: options.method ?? "GET", headers: options.headers },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    request.on("error", reject);
    request.end(options.body);
  });
}

/** fetch, with the JSON body typed loosely: the tests check its shape with toEqual. */
// biome-ignore lint/suspicious/noExplicitAny: a test reads arbitrary JSON
export type JsonResponse = Omit<Response, "json"> & { json(): Promise<any> };
export const jfetch = (url: string, init?: RequestInit) =>
  fetch(url, init) as unknown as Promise<JsonResponse>;
