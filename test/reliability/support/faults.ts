// The fault path in front of one real server: Keyway → Toxiproxy → request counter → server. Each
// test makes its own link (a proxy with a unique name) and closes it; every fault injected is counted.
import { randomBytes } from "node:crypto";
import { type ServerName, serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import { type ProxyHandle, type ToxicSpec, ToxiproxyClient } from "@keyway/test-servers/toxiproxy";
import { inject } from "vitest";
import type { BackendServer } from "./backends.js";
import { type CountingProxy, startCountingProxy } from "./counting-proxy.js";
import { count } from "./stats.js";

/** The servers the globalSetup started (or external ones from KEYWAY_TEST_<NAME>_ENDPOINT). */
export function server(name: ServerName) {
  const found = inject("keywayServers")?.[name] ?? serverFromEnv(name);
  if (!found)
    throw new Error(`[keyway] the reliability suite needs ${name}: run scripts/emulators/install.sh`);
  return found;
}

let client: ToxiproxyClient | undefined;
export function toxiproxy(): ToxiproxyClient {
  client ??= new ToxiproxyClient(server("toxiproxy").extra.apiUrl ?? server("toxiproxy").endpoint);
  return client;
}

export interface FaultyLink {
  readonly proxy: ProxyHandle;
  readonly counter: CountingProxy;
  /** `127.0.0.1:PORT` of the Toxiproxy listener Keyway talks to. */
  readonly address: string;
  /** `http://127.0.0.1:PORT` of the same. */
  readonly url: string;
  /** Adds a toxic (counted as one fault). */
  fault(spec: ToxicSpec): Promise<string>;
  /** Removes every toxic and re-enables the proxy. */
  heal(): Promise<void>;
  /** Closes the listener: clients get ECONNREFUSED (counted as one fault). */
  disable(): Promise<void>;
  close(): Promise<void>;
}

/** A fresh link to the server listening on `port` (one of the shared ones by default). */
export async function faultyLink(target: BackendServer, port = server(target).port): Promise<FaultyLink> {
  const counter = await startCountingProxy(port);
  const proxy = await toxiproxy().createProxy({
    name: `rel-${target}-${randomBytes(5).toString("hex")}`,
    upstream: `127.0.0.1:${counter.port}`,
  });
  const address = `127.0.0.1:${proxy.port}`;
  return {
    proxy,
    counter,
    address,
    url: `http://${address}`,
    async fault(spec) {
      count("faultsInjected");
      const name =
        spec.name ?? `${spec.type}_${spec.stream ?? "downstream"}_${randomBytes(3).toString("hex")}`;
      await proxy.addToxic({ ...spec, name });
      return name;
    },
    async heal() {
      for (const toxic of await proxy.toxics()) await proxy.removeToxic(toxic.name);
      if (!proxy.enabled) await proxy.enable();
    },
    async disable() {
      count("faultsInjected");
      await proxy.disable();
    },
    async close() {
      await proxy.delete().catch(() => undefined);
      await counter.close();
    },
  };
}
