/** `type: vault` in `keyway.yaml`: the options schema and the factory. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { z } from "zod";
import { createVaultBackend, type VaultBackendOptions } from "./index.js";

const text = z.string().min(1);
const mount = text.optional();

const authSchema = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("token"), token: text.optional() }),
  z.strictObject({ method: z.literal("approle"), roleId: text, secretId: text, mount }),
  z.strictObject({ method: z.literal("userpass"), username: text, password: text, mount }),
  z.strictObject({ method: z.literal("kubernetes"), role: text, jwtPath: text.optional(), mount }),
]);

const optionsSchema = z.strictObject({
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  auth: authSchema.optional(),
  mount: text.optional(),
  kvVersion: z.union([z.literal(1), z.literal(2)]).optional(),
  prefix: z.string().optional(),
  readOnlyPath: z.string().optional(),
  namespace: z.string().optional(),
  timeoutMs: z.number().positive().optional(),
  concurrency: z.number().int().min(1).max(64).optional(),
  caCert: text.optional(),
});

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
  optionsSchema,
  create: (options, { name, env }) => createVaultBackend({ ...options, name, env }),
  credentialVariables: () => credentialVariables,
};
