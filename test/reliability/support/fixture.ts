// One fault fixture per test: a fresh link (Toxiproxy + counter) to a real server and a caching
// resolver over the backend behind it, so a fault left in one test (a stalled HTTP/2 connection,
// a half-read socket) never reaches the next.

import type { SecretResolver } from "@keyway/core";
import { type CacheOptions, createResolver, type ResolverOptions, type SecretBackend } from "@keyway/core";
import type { BackendServer } from "./backends.js";
import { makeBackend } from "./backends.js";
import { type FaultyLink, faultyLink } from "./faults.js";
import { count } from "./stats.js";

export interface FixtureOptions {
  timeoutMs: number;
  retry?: ResolverOptions["retry"];
  breaker?: ResolverOptions["breaker"];
  cache?: CacheOptions;
  /** The backend's own per-request timeout. @default 10000 (each SDK's default-like value) */
  requestTimeoutMs?: number;
  /** Port of the server behind the link. @default the shared server's */
  port?: number;
  /** OpenBao: the token. @default root */
  token?: string;
}

export interface Fixture {
  link: FaultyLink;
  backend: SecretBackend;
  resolver: SecretResolver;
  close(): Promise<void>;
}

export async function fixture(kind: BackendServer, scope: string, options: FixtureOptions): Promise<Fixture> {
  const link = await faultyLink(kind, options.port);
  const backend = makeBackend(kind, {
    address: link.address,
    scope,
    requestTimeoutMs: options.requestTimeoutMs,
    token: options.token,
  });
  const resolver = createResolver({
    backend,
    timeoutMs: options.timeoutMs,
    retry: options.retry ?? { attempts: 1 },
    breaker: options.breaker ?? { threshold: 0 },
    cache: options.cache ?? { ttlMs: 0, negativeTtlMs: 0 },
  });
  // As a service does at startup, so no timed read pays for building the client. These backends
  // use static credentials: this sends no request, whatever fault the link gets later.
  await resolver.prepare();
  return {
    link,
    backend,
    resolver,
    async close() {
      count("backendCalls", resolver.stats().backendCalls);
      await resolver.close();
      await link.close();
    },
  };
}
