/**
 * @keyway/core/config/default: the router used when there is no config file, in its own entry
 * so a caller that knows there is none (the CLI's start-up) loads neither `yaml` nor `zod`.
 * `loadRouter` builds its no-config router here too: one definition of the default.
 */
import { createRouter, type Redactor, type Router, type SecretBackend } from "../internal.js";

/** The one backend of the default router: the env backend, under this name. */
export const DEFAULT_BACKEND = { name: "env", type: "env" } as const;

/** What the default router takes besides its backend. */
export interface DefaultRouterOptions {
  /** Shared by the router's resolvers. @default a new redactor */
  redactor?: Redactor | undefined;
  /** Values for `{{ envs.name }}`. @default {} */
  envs?: Readonly<Record<string, string>> | undefined;
}

/**
 * The router without a config file: `backend` (an env backend named `DEFAULT_BACKEND.name`)
 * serves every namespace, with the router's default cache, timeout, retry and breaker.
 *
 * @example
 * const router = createDefaultRouter(createEnvBackend({ name: DEFAULT_BACKEND.name }));
 */
export function createDefaultRouter(backend: SecretBackend, options: DefaultRouterOptions = {}): Router {
  return createRouter({
    backends: { [DEFAULT_BACKEND.name]: backend },
    rules: [{ match: "", backend: DEFAULT_BACKEND.name }],
    redactor: options.redactor,
    envs: options.envs,
  });
}
