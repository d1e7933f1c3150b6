/**
 * What every command needs: the router from `--config` / `KEYWAY_CONFIG` / `./keyway.yaml`, else
 * the default router. The config loader (`yaml`, `zod`) is imported only when there is a file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { createEnvBackend, readEnvsVariables } from "@keyway/backend-env";
import { createRedactor, type Router } from "@keyway/core";
import { createDefaultRouter, DEFAULT_BACKEND } from "@keyway/core/config/default";
import type { CliIO } from "./io.js";

export interface GlobalOptions {
  config?: string;
}

export async function openRouter(io: CliIO, options: GlobalOptions): Promise<Router> {
  const local = path.resolve(io.cwd, "keyway.yaml");
  const configPath = options.config ?? io.env.KEYWAY_CONFIG ?? (existsSync(local) ? local : undefined);
  const env = { ...io.env, KEYWAY_CONFIG: undefined };
  const shared = { envs: readEnvsVariables(io.env), redactor: createRedactor() };
  // Without any config file, the env backend serves every namespace (as loadRouter does).
  if (configPath === undefined)
    return createDefaultRouter(createEnvBackend({ name: DEFAULT_BACKEND.name, env }), shared);
  const { loadRouter } = await import("@keyway/core/config");
  return loadRouter({ path: path.resolve(io.cwd, configPath), env, ...shared });
}

/** Runs `body` with a router and always closes it. */
export async function withRouter<T>(
  io: CliIO,
  options: GlobalOptions,
  body: (router: Router) => Promise<T>,
): Promise<T> {
  const router = await openRouter(io, options);
  try {
    return await body(router);
  } finally {
    await router.close();
  }
}
