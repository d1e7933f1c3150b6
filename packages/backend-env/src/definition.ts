/** `type: env` in `keyway.yaml`. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { type EnvBackendOptions, envBackendFactory } from "./backend.js";
import { envOptionsSchema } from "./options.js";

/**
 * The variables the env backend reads: every variable with its prefix (`SECRET_` by default),
 * each holding a secret. `keyway run` keeps them from its child and masks them.
 */
export const credentialVariables: CredentialVariables = { secret: ["SECRET_*"], locator: [] };

/** Options from `keyway.yaml` are checked by the loader with this same schema before `create`. */
const createEnvBackend = envBackendFactory(async () => envOptionsSchema);

export const definition: BackendDefinition<EnvBackendOptions> = {
  type: "env",
  optionsSchema: envOptionsSchema,
  create: (options, { name, env }) => createEnvBackend({ ...options, name, env }),
  credentialVariables: (options) =>
    options.prefix === undefined ? credentialVariables : { secret: [`${options.prefix}*`], locator: [] },
};
