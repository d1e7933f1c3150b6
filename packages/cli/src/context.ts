/** What every command needs: the router from `--config` / `KEYWAY_CONFIG` / `./keyway.yaml`. */
import { existsSync } from "node:fs";
import path from "node:path";
import { readEnvsVariables } from "@keyway/backend-env";
import { createRedactor, type Router } from "@keyway/core";
import { loadRouter } from "@keyway/core/config";
import type { CliIO } from "./io.js";

export interface GlobalOptions {
  config?: string;
}

export async function openRouter(io: CliIO, options: GlobalOptions): Promise<Router> {
  const local = path.resolve(io.cwd, "keyway.yaml");
  const configPath = options.config ?? io.env.KEYWAY_CONFIG ?? (existsSync(local) ? local : undefined);
  return loadRouter({
    // Without any config file, the env backend serves every namespace.
    path: configPath === undefined ? undefined : path.resolve(io.cwd, configPath),
    env: { ...io.env, KEYWAY_CONFIG: undefined },
    envs: readEnvsVariables(io.env),
    redactor: createRedactor(),
  });
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
