/** `type: vault` in `keyway.yaml`: the options schema (options.ts) and the factory. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { createVaultBackend, type VaultBackendOptions } from "./index.js";
import { vaultOptionsSchema } from "./options.js";

/**
 * The token Keyway (and node-vault) falls back to, and OpenBao's name for it (`bao` reads
 * BAO_TOKEN). VAULT_ADDR and VAULT_NAMESPACE say where, not who, and stay.
 */
export const credentialVariables: CredentialVariables = {
  secret: ["VAULT_TOKEN", "BAO_TOKEN"],
  locator: [],
};

export const definition: BackendDefinition<VaultBackendOptions> = {
  type: "vault",
  optionsSchema: vaultOptionsSchema,
  create: (options, { name, env }) => createVaultBackend({ ...options, name, env }),
  credentialVariables: () => credentialVariables,
};
