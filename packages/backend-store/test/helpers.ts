// Shared by the store's server tests: the PostgreSQL the project's globalSetup started, a fresh
// database per store (so files and reruns never meet), a fresh folder per embedded store, and keys.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import type {} from "../../../test/servers/global-setup.js";
import { serverFromEnv } from "../../../test/servers/index.js";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { initializeStore, parseKeyText, type StoreBackendOptions, type StoreKey } from "../src/index.js";
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
  return engine === "postgres"
    ? { url: await createDatabase() }
    : { path: `${await tempDir("keyway-store-")}/store` };
}

/** A new, initialized store: its location and the options (with its key in `env`) to open it. */
export async function newStore(
  engine: EngineKind,
): Promise<{ options: StoreBackendOptions; keyText: string; key: StoreKey }> {
  const location = await newLocation(engine);
  const { text, key } = newKey();
  await initializeStore(location, key);
  return { options: { ...location, env: { KEYWAY_STORE_KEY: text } }, keyText: text, key };
}
