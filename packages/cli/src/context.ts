/**
 * What every command needs: the router from `--config` / `KEYWAY_CONFIG` / `./keyway.yaml`, else
 * the default router. The config loader (`yaml`, `zod`) is imported only when there is a file.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { createEnvBackend, readEnvsVariables } from "@keyway/backend-env";
import { createRedactor, type Redactor, type Router } from "@keyway/core";
import type { ConfigEnvironment } from "@keyway/core/config";
import { createDefaultRouter, DEFAULT_BACKEND } from "@keyway/core/config/default";
import type { CliIO } from "./cli-io.js";

export interface GlobalOptions {
  config?: string;
}

/** One CLI invocation's state, shared by its routers and its error output. */
export interface Session {
  /** Every router's redactor: what was resolved stays masked in the debug output too. */
  readonly redactor: Redactor;
  /** What the config file read from the environment; undefined without a file. */
  environment?: ConfigEnvironment | undefined;
}

const sessions = new WeakMap<CliIO, Session>();

/** The session of the invocation that owns `io`. */
export function sessionOf(io: CliIO): Session {
  const known = sessions.get(io);
  if (known) return known;
  const session: Session = { redactor: createRedactor() };
  sessions.set(io, session);
  return session;
}

/**
 * The config file a command reads: `--config`, else KEYWAY_CONFIG, else `./keyway.yaml` when it
 * exists (none: the command's default); and the environment the file is read with, KEYWAY_CONFIG
 * taken out (it has been used here).
 */
export function configSource(
  io: CliIO,
  options: GlobalOptions,
): { path: string | undefined; env: CliIO["env"] } {
  const local = path.resolve(io.cwd, "keyway.yaml");
  const chosen = options.config ?? io.env.KEYWAY_CONFIG ?? (existsSync(local) ? local : undefined);
  return {
    path: chosen === undefined ? undefined : path.resolve(io.cwd, chosen),
    env: { ...io.env, KEYWAY_CONFIG: undefined },
  };
}

export async function openRouter(io: CliIO, options: GlobalOptions): Promise<Router> {
  const { path: configPath, env } = configSource(io, options);
  const session = sessionOf(io);
  const shared = { envs: readEnvsVariables(io.env), redactor: session.redactor };
  // Without any config file, the env backend serves every namespace (as loadRouter does).
  if (configPath === undefined)
    return createDefaultRouter(createEnvBackend({ name: DEFAULT_BACKEND.name, env }), shared);
  const { loadConfiguredRouter } = await import("@keyway/core/config");
  const { router, environment } = await loadConfiguredRouter({
    path: configPath,
    env,
    ...shared,
  });
  session.environment = environment;
  return router;
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
