/** `type: store` in `keyway.yaml`: the options schema (options.ts) and the factory. */
import path from "node:path";
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { createStoreBackend } from "./index.js";
import { KEY_VARIABLE } from "./key.js";
import { type StoreBackendOptions, storeOptionsSchema } from "./options.js";

/** The store's key, and the PostgreSQL password `pg` falls back to. */
export const credentialVariables: CredentialVariables = {
  secret: [KEY_VARIABLE, "PGPASSWORD"],
  locator: ["PGPASSFILE"],
};

/**
 * `path:` and `keyFile:` as the file means them: relative to the config file's folder (`baseDir`),
 * not to the working directory the command happens to run in.
 */
export function resolvePaths(options: StoreBackendOptions, baseDir: string | undefined): StoreBackendOptions {
  if (baseDir === undefined) return options;
  const resolve = (file: string | undefined) =>
    file === undefined ? undefined : path.resolve(baseDir, file);
  return { ...options, path: resolve(options.path), keyFile: resolve(options.keyFile) };
}

export const definition: BackendDefinition<StoreBackendOptions> = {
  type: "store",
  optionsSchema: storeOptionsSchema as unknown as BackendDefinition<StoreBackendOptions>["optionsSchema"],
  create: (options, { name, env, baseDir }) =>
    createStoreBackend({ ...resolvePaths(options, baseDir), name, env }),
  credentialVariables: () => credentialVariables,
};
