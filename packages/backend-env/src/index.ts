/**
 * @keyway/backend-env: Kestra's open-source secrets. Every `SECRET_<KEY>` environment variable
 * holds a base64 value (or plaintext with `encoding: "raw"`); keys are global (namespaces and
 * tenants are ignored) and looked up case-insensitively. Read once, at creation; a variable is read
 * again only when its version is probed (`router.watch`), see `probeVersion`.
 */
import { type EnvBackend, type EnvBackendOptions, envBackendFactory } from "./backend.js";

export type { EnvBackend, EnvBackendOptions } from "./backend.js";

export { decodeSecretValue, decodeStrictBase64 } from "./decode.js";
export { type EnvSecretVariable, readEnvsVariables, readSecretVariables } from "./variables.js";

/**
 * Creates the env backend. `prefix` and `encoding` are checked by the schema in options.ts on
 * first use (a wrong one fails every call with ConfigurationError), so importing this package
 * never loads zod.
 * @example
 * // SECRET_API_TOKEN=dDBrZW4= (base64 of "t0ken")
 * const backend = createEnvBackend();
 * (await backend.get({ namespace: "", key: "api_token" })).reveal(); // "t0ken"
 */
export const createEnvBackend: (options?: EnvBackendOptions) => EnvBackend = envBackendFactory(() =>
  // Through the definition entry, which holds the schema: scripts/bundle-hot.mjs keeps it an
  // import of the package, so the CLI's start-up bundle does not carry zod.
  import("./definition.js").then(({ definition }) => definition.optionsSchema),
);
