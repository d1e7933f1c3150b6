// Vitest globalSetup: starts the servers named in KEYWAY_SERVERS (comma list, or "all") once
// per run, and hands them to the tests two ways:
//   - inject("keywayServers").moto?.endpoint      (Vitest provide/inject)
//   - KEYWAY_TEST_MOTO_ENDPOINT, KEYWAY_TEST_OPENBAO_ROOT_TOKEN, ... (env, read back by serverFromEnv)
// A server whose KEYWAY_TEST_<NAME>_ENDPOINT is already set (e.g. docker-compose) is not started.
// Use it from a project config: test: { globalSetup: ["packages/test-servers/src/global-setup.ts"] }.
// Brings "vitest" into the program, so the ProvidedContext augmentation below can merge into it.
import type {} from "vitest";
import type { TestProject } from "vitest/node";
import {
  exportToEnv,
  isInstalled,
  type RunningServer,
  requireServer,
  SERVER_NAMES,
  type ServerName,
  serverFromEnv,
  startServer,
} from "./index.js";

export type ProvidedServer = Omit<RunningServer, "stop">;

declare module "vitest" {
  export interface ProvidedContext {
    keywayServers: Partial<Record<ServerName, ProvidedServer>>;
  }
}

/** provide() values must be serializable: drop stop(). */
const plain = ({ stop: _stop, ...rest }: RunningServer): ProvidedServer => rest;

function requested(): ServerName[] {
  const raw = (process.env.KEYWAY_SERVERS ?? "").trim();
  if (raw === "all") return [...SERVER_NAMES];
  const names = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!SERVER_NAMES.includes(n as ServerName)) {
      throw new Error(`KEYWAY_SERVERS: unknown server "${n}" (known: ${SERVER_NAMES.join(", ")}, all)`);
    }
  }
  return names as ServerName[];
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers: Partial<Record<ServerName, ProvidedServer>> = {};
  const toStart = requested().filter((name) => {
    const external = serverFromEnv(name);
    if (external) {
      servers[name] = plain(external);
      return false;
    }
    // Not installed: throws in CI, prints the loud SKIPPING line on a laptop.
    return isInstalled(name) || requireServer(name) !== undefined;
  });

  const results = await Promise.allSettled(toStart.map((name) => startServer(name)));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length) {
    await Promise.all(results.map((r) => (r.status === "fulfilled" ? r.value.stop() : undefined)));
    throw new AggregateError(
      failed.map((f) => f.reason),
      `keyway: could not start ${failed.length} server(s): ${failed.map((f) => String(f.reason).split("\n")[0]).join("; ")}`,
    );
  }
  for (const r of results) {
    if (r.status !== "fulfilled") continue;
    servers[r.value.name] = plain(r.value);
    // Workers are forked after globalSetup, so they inherit these.
    exportToEnv(r.value);
  }

  project.provide("keywayServers", servers);
  // Stop only what this call started: several projects may each run this setup in one process.
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  return async () => {
    await Promise.all(started.map((s) => s.stop()));
  };
}
