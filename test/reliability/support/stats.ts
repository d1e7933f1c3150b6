// Counters behind the table `npm run test:reliability` prints at the end. Vitest runs each file in
// its own worker, so every file keeps its own counters here and writes them, when it ends, as one
// JSON file into the directory the globalSetup made (KEYWAY_RELIABILITY_DIR); the setup's
// teardown adds them up (see global-setup.ts). Every number comes from a check that ran.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";

export interface Counters {
  /** Toxics added, proxies disabled, servers killed. */
  faultsInjected: number;
  /** Requests that reached a real server (counted on the wire, in front of it). */
  serverRequests: number;
  /** Backend calls Keyway made (its own count: resolver stats, wrappers, fake clients). */
  backendCalls: number;
  /** Resolves made under faults or in property tests, each checked for its value or typed error. */
  resolvesChecked: number;
  /** A value that was not the one stored for that exact ref (must stay 0). */
  wrongValues: number;
  /** Error objects, log lines and CLI outputs searched for a secret or a credential. */
  leakChecks: number;
  /** A secret value or credential found in one of them (must stay 0). */
  leaksFound: number;
  /** A promise that did not settle by its deadline plus the slack (must stay 0). */
  hangs: number;
  /** Unhandled promise rejections seen while a test ran (must stay 0). */
  unhandledRejections: number;
  /** Invalid references and other hostile inputs tried. */
  invalidTried: number;
  /** ...of which were refused with the right typed error. */
  invalidRejected: number;
  /** Backend calls (or server requests) caused by invalid input (must stay 0). */
  invalidBackendCalls: number;
  /** The store: writers killed with SIGKILL in the middle of puts. */
  storeWritersKilled?: number;
  /** The store: secrets read back after a killed writer that were torn or lost a commit (must stay 0). */
  storeTornSecrets?: number;
  /** The store: compare-and-set updates made by competing processes. */
  storeCasUpdates?: number;
  /** The store: compare-and-set updates lost (must stay 0). */
  storeCasLost?: number;
}

export const counters: Counters = {
  faultsInjected: 0,
  serverRequests: 0,
  backendCalls: 0,
  resolvesChecked: 0,
  wrongValues: 0,
  leakChecks: 0,
  leaksFound: 0,
  hangs: 0,
  unhandledRejections: 0,
  invalidTried: 0,
  invalidRejected: 0,
  invalidBackendCalls: 0,
};

export function count(name: keyof Counters, n = 1): void {
  counters[name] = (counters[name] ?? 0) + n;
}

/** Call once at the top of each test file: its counters are written when the file ends. */
export function reportCounters(file: string): void {
  afterAll(() => {
    const dir = process.env.KEYWAY_RELIABILITY_DIR;
    if (!dir) return;
    const name = `${path.basename(file).replace(/\W+/g, "-")}-${process.pid}-${randomBytes(3).toString("hex")}.json`;
    writeFileSync(path.join(dir, name), JSON.stringify({ file: path.basename(file), counters }));
  });
}
