// Shared by the store's server tests: the PostgreSQL the project's globalSetup started, a fresh
// database per store (so files and reruns never meet), a fresh folder per embedded store, and keys.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import pg from "pg";
import { afterAll, expect, inject } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import {
  createStoreBackend,
  initializeStore,
  parseKeyText,
  type StoreBackend,
  type StoreBackendOptions,
  type StoreKey,
} from "../src/index.js";
import { generateKeyText } from "../src/key.js";

export const server = inject("keywayServers")?.postgres ?? serverFromEnv("postgres");
/** The cluster's superuser URL (database `postgres`). */
export const adminUrl = server?.extra.url ?? "postgres://keyway@127.0.0.1:1/postgres";

/** A new random key, as text (for KEYWAY_STORE_KEY) and loaded. */
export function newKey(): { text: string; key: StoreKey } {
  const text = generateKeyText();
  return { text, key: parseKeyText(text, "KEYWAY_STORE_KEY") };
}

/** Creates an empty database on the test cluster and returns its URL. */
export async function createDatabase(label = "store"): Promise<string> {
  const name = `keyway_${label}_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return adminUrl.replace(/\/postgres$/, `/${name}`);
}

export type EngineKind = "postgres" | "sqlite";
export const ENGINES: readonly EngineKind[] = ["postgres", "sqlite"];

/** Where a new store of that engine lives: `{ url }` (a new database) or `{ path }` (a new folder). */
export async function newLocation(engine: EngineKind): Promise<Pick<StoreBackendOptions, "url" | "path">> {
  if (engine === "postgres") return { url: await createDatabase() };
  const folder = `${await tempDir("keyway-store-")}/store`;
  embeddedFolders.add(folder);
  return { path: folder };
}

// ---- no plaintext at rest: every value a test writes is looked for in the files ----

/** Values written by this test file (through {@link openStore} or {@link recordValue}). */
export const writtenValues = new Set<string>();
/** The embedded folders this test file made. */
export const embeddedFolders = new Set<string>();

/** Notes a value written another way (the CLI), so the at-rest check looks for it too. */
export function recordValue(value: string | Uint8Array): void {
  writtenValues.add(typeof value === "string" ? value : Buffer.from(value).toString("latin1"));
}

/** createStoreBackend, with every value put recorded for the at-rest check. */
export function openStore(options: StoreBackendOptions): StoreBackend {
  const backend = createStoreBackend(options);
  const put = backend.put.bind(backend);
  backend.put = (ref, value, metadata, writeOptions) => {
    recordValue(value);
    return put(ref, value, metadata, writeOptions);
  };
  return backend;
}

/**
 * What `grep` finds of `values` in `paths` (files or folders, recursively, binary files read as
 * text): each value as it is and in base64. Values shorter than 10 bytes are left out: a word
 * like "first" is in PostgreSQL's own catalog files whatever we store. A value with line breaks
 * is looked for line by line (grep's patterns are lines), each line of 10 bytes or more.
 */
export function findPlaintext(paths: readonly string[], values: Iterable<string>): string[] {
  const patterns = new Set<string>();
  for (const value of values) {
    const bytes = Buffer.from(value, "utf8");
    if (bytes.length < 10) continue;
    for (const line of value.split(/\r?\n/)) if (Buffer.byteLength(line) >= 10) patterns.add(line);
    patterns.add(bytes.toString("base64").replace(/=+$/, ""));
  }
  const present = paths.filter((p) => existsSync(p));
  if (patterns.size === 0 || present.length === 0) return [];
  const file = path.join(tmpdir(), `keyway-at-rest-${randomBytes(4).toString("hex")}.txt`);
  writeFileSync(file, [...patterns].join("\n"), { mode: 0o600 });
  try {
    const result = spawnSync("grep", ["-r", "-a", "-F", "-o", "-h", "-f", file, "--", ...present], {
      encoding: "latin1",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status === 1) return [];
    if (result.status !== 0) throw new Error(`grep failed: ${result.stderr}`);
    return [...new Set(result.stdout.split("\n").filter(Boolean))];
  } finally {
    rmSync(file, { force: true });
  }
}

/** PostgreSQL's data dir and server log, after a CHECKPOINT wrote every dirty page out. */
export async function postgresFiles(): Promise<string[]> {
  if (!server?.extra.dataDir) return [];
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    await client.query("CHECKPOINT");
  } finally {
    await client.end();
  }
  return [server.extra.dataDir, server.extra.logFile].filter((p): p is string => p !== undefined);
}

// Before the temp folders go (their afterAll was registered first, so it runs last): nothing
// this file wrote is in the server's files, its WAL and log, or the embedded folders.
afterAll(async () => {
  if (writtenValues.size === 0) return;
  const found = findPlaintext([...(await postgresFiles()), ...embeddedFolders], writtenValues);
  expect(found, "plaintext values found at rest").toEqual([]);
});

/** A new, initialized store: its location and the options (with its key in `env`) to open it. */
export async function newStore(
  engine: EngineKind,
): Promise<{ options: StoreBackendOptions; keyText: string; key: StoreKey }> {
  const location = await newLocation(engine);
  const { text, key } = newKey();
  await initializeStore(location, key);
  return { options: { ...location, env: { KEYWAY_STORE_KEY: text } }, keyText: text, key };
}
