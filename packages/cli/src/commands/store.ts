/**
 * `keyway store init` and `keyway store rotate-key`: create Keyway's own encrypted store
 * (@keyway/backend-store) with its key file, and re-wrap its data keys under a new key.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ConfigurationError } from "@keyway/core";
import { configSource, type GlobalOptions } from "../context.js";
import { CliError, type CliIO, EXIT, write } from "../io.js";
import { createSecretFile } from "../secret-file.js";

/** The store package, imported only by these commands (installed beside the CLI by its users). */
export async function storePackage(): Promise<typeof import("@keyway/backend-store")> {
  try {
    return await import("@keyway/backend-store");
  } catch {
    throw new CliError(
      "`keyway store` needs the package @keyway/backend-store: npm install @keyway/backend-store.",
    );
  }
}

/** A PostgreSQL URL without its password, to print (the password stays in PGPASSWORD or a ${VAR}). */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = "";
    return parsed.toString();
  } catch {
    throw new CliError("--url is not a URL (postgres://user@host:5432/database).", EXIT.invalid);
  }
}

/** Where `keyway store init` puts an embedded store and its key by default (and `keyway serve` looks). */
export const DEFAULT_STORE_PATH = ".keyway/store";
export const DEFAULT_STORE_KEY_FILE = ".keyway/store.key";

/**
 * Creates a store and its new key file (mode 0600); nothing is left half-made: the key file of a
 * store that could not be created is removed. Paths are relative to the working directory.
 */
export async function createStore(
  io: CliIO,
  options: { path?: string | undefined; url?: string | undefined; keyFile: string; name: string },
): Promise<void> {
  const store = await storePackage();
  const absoluteKey = path.resolve(io.cwd, options.keyFile);
  const keyText = store.generateKeyText();
  await createSecretFile(absoluteKey, keyText, "key file");
  try {
    await store.initializeStore(
      { name: options.name, url: options.url, path: options.path && path.resolve(io.cwd, options.path) },
      store.parseKeyText(keyText, `key file '${options.keyFile}'`),
    );
  } catch (error) {
    rmSync(absoluteKey, { force: true });
    throw error;
  }
  await write(
    io.stderr,
    `keyway: created the store and its key file ${options.keyFile} (mode 0600). Keep a copy of the key: without it the store cannot be read.\n`,
  );
}

export async function init(
  io: CliIO,
  _global: GlobalOptions,
  options: { path?: string; url?: string; keyFile?: string; name: string },
): Promise<void> {
  if (options.path !== undefined && options.url !== undefined)
    throw new CliError("Give --path (an embedded store) or --url (PostgreSQL), not both.", EXIT.invalid);
  const storePath = options.url === undefined ? (options.path ?? DEFAULT_STORE_PATH) : undefined;
  const keyFile = options.keyFile ?? DEFAULT_STORE_KEY_FILE;
  await createStore(io, { path: storePath, url: options.url, keyFile, name: options.name });
  const where =
    storePath !== undefined
      ? `path: ${JSON.stringify(storePath)}`
      : `url: ${JSON.stringify(withoutPassword(options.url as string))}`;
  await write(
    io.stdout,
    [
      "# add to keyway.yaml:",
      "backends:",
      `  ${options.name}: { type: store, ${where}, keyFile: ${JSON.stringify(keyFile)} }`,
      "namespaces:",
      `  - { match: "", backend: ${options.name} }`,
      "",
    ].join("\n"),
  );
}

export async function rotateKey(
  io: CliIO,
  global: GlobalOptions,
  options: { backend?: string; newKeyFile: string },
): Promise<void> {
  const store = await storePackage();
  const { parseConfig, readConfigFile } = await import("@keyway/core/config");
  const source = configSource(io, global);
  const file =
    source.path === undefined ? undefined : await readConfigFile({ path: source.path, env: io.env });
  if (!file)
    throw new CliError("No keyway.yaml: rotate-key works on a store its config names.", EXIT.invalid);
  const { config } = parseConfig(file.text, { env: io.env, source: file.source });
  const stores = Object.entries(config.backends).filter(([, b]) => b.type === "store");
  const chosen = options.backend === undefined ? stores : stores.filter(([name]) => name === options.backend);
  if (chosen.length !== 1)
    throw new CliError(
      options.backend === undefined
        ? `Give --backend: the config has ${stores.length} store backends (${stores.map(([n]) => n).join(", ") || "none"}).`
        : `The config has no store backend named '${options.backend}'.`,
      EXIT.invalid,
    );
  const [name, raw] = chosen[0] as [string, Record<string, unknown>];
  // The store the config names, its paths the config file's folder's, as the backend reads them.
  const { resolvePaths } = await import("@keyway/backend-store/definition");
  const storeOptions = {
    ...resolvePaths(
      {
        url: raw.url as string | undefined,
        path: raw.path as string | undefined,
        keyFile: raw.keyFile as string | undefined,
      },
      path.dirname(file.source),
    ),
    name,
    env: io.env,
  };
  const oldKey = store.loadStoreKey(storeOptions.keyFile, io.env);
  // The new key file is made once and read again by a resumed run.
  const newKeyPath = path.resolve(io.cwd, options.newKeyFile);
  if (!existsSync(newKeyPath)) await createSecretFile(newKeyPath, store.generateKeyText(), "key file");
  const newKey = store.parseKeyText(readFileSync(newKeyPath, "utf8"), `key file '${options.newKeyFile}'`);
  if (newKey.id === oldKey.id)
    throw new ConfigurationError("The new key file holds the store's current key.");
  const result = await store.rotateStoreKey(storeOptions, oldKey, newKey, (n) => {
    io.stderr.write(`keyway: ${n} data keys re-wrapped\n`);
  });
  await write(
    io.stderr,
    `keyway: store '${name}' now uses key id ${newKey.id} (${result.rewrapped} data keys re-wrapped in this run; no value was re-encrypted).\n`,
  );
  await write(
    io.stdout,
    `${storeOptions.keyFile !== undefined ? `Point keyFile: of backend '${name}' at ${options.newKeyFile}` : `Set KEYWAY_STORE_KEY to the content of ${options.newKeyFile}`}, then remove the old key.\n`,
  );
}
