// The fault suite runs every real server it can reach through Toxiproxy (Lowkey Vault, Azure's
// emulator, is not installable here: Azure is covered by the unit-level checks only). Each test
// file writes its counters into a temp dir (support/stats.ts); the teardown prints their sum.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ServerName } from "@keyway/test-servers";
import { setupFor } from "@keyway/test-servers/project-setup";
import type { TestProject } from "vitest/node";
import { FAULT_SERVERS } from "../backends.js";
import type { Counters } from "./support/stats.js";

// Toxiproxy, the server of every backend whose backends.json entry has `faults`, and PostgreSQL
// for the store's own reliability cases (store.test.ts: SIGKILL mid-put, compare-and-set races).
const startServers = setupFor("toxiproxy", ...(FAULT_SERVERS as ServerName[]), "postgres");

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(tmpdir(), "keyway-reliability-"));
  // Workers are forked after the globalSetup, so they inherit it.
  process.env.KEYWAY_RELIABILITY_DIR = dir;
  let stopServers: (() => Promise<void>) | undefined;
  try {
    stopServers = await startServers(project);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return async () => {
    try {
      printTable(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await stopServers?.();
    }
  };
}

const ROWS: Array<[keyof Counters, string, "zero" | "info"]> = [
  ["faultsInjected", "faults injected (toxics, disabled proxies, killed servers)", "info"],
  ["serverRequests", "requests made (arrived at a real server)", "info"],
  ["backendCalls", "backend calls made by Keyway", "info"],
  ["resolvesChecked", "resolves checked for value or typed error", "info"],
  ["wrongValues", "wrong values returned", "zero"],
  ["leakChecks", "errors, logs and outputs searched for leaks", "info"],
  ["leaksFound", "leaks found", "zero"],
  ["hangs", "hangs (settled after deadline + slack)", "zero"],
  ["unhandledRejections", "unhandled rejections", "zero"],
  ["invalidTried", "invalid inputs tried (input x entry point)", "info"],
  ["invalidRejected", "invalid inputs rejected with a typed error", "info"],
  ["invalidBackendCalls", "backend calls made for invalid input", "zero"],
  ["storeWritersKilled", "store: writers killed (SIGKILL) mid-put", "info"],
  ["storeTornSecrets", "store: secrets torn or missing a commit after a kill", "zero"],
  ["storeCasUpdates", "store: compare-and-set updates by competing processes", "info"],
  ["storeCasLost", "store: compare-and-set updates lost", "zero"],
];

function printTable(dir: string): void {
  const totals = Object.fromEntries(ROWS.map(([k]) => [k, 0])) as Record<keyof Counters, number>;
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  for (const file of files) {
    const { counters } = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { counters: Counters };
    for (const [k] of ROWS) totals[k] += counters[k] ?? 0;
  }
  const width = Math.max(...ROWS.map(([, label]) => label.length));
  const lines = [
    "",
    `Keyway reliability report (${files.length} test files reporting)`,
    `${"".padEnd(width, "-")}  ---------`,
    ...ROWS.map(([k, label, kind]) => {
      const flag = kind === "zero" && totals[k] !== 0 ? "  <-- MUST BE 0" : "";
      return `${label.padEnd(width)}  ${String(totals[k]).padStart(9)}${flag}`;
    }),
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
