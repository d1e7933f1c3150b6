/** `type: store` in `keyway.yaml`: the options schema and the factory. */
import type { BackendDefinition, CredentialVariables } from "@keyway/core/backend";
import { z } from "zod";
import { createStoreBackend, type StoreBackendOptions } from "./backend.js";
import { KEY_VARIABLE } from "./key.js";

const optionsSchema = z
  .strictObject({
    url: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
    path: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    keepVersions: z.number().int().min(1).max(1000).optional(),
    readOnly: z.boolean().optional(),
    timeoutMs: z.number().positive().optional(),
    poolSize: z.number().int().min(1).max(100).optional(),
    maxValueBytes: z
      .number()
      .int()
      .min(1)
      .max(16 * 1024 * 1024)
      .optional(),
  })
  .refine((o) => (o.url === undefined) !== (o.path === undefined), {
    message: "give exactly one of url: (PostgreSQL) and path: (an embedded folder)",
  });

/** The store's key, and the PostgreSQL password `pg` falls back to. */
export const credentialVariables: CredentialVariables = {
  secret: [KEY_VARIABLE, "PGPASSWORD"],
  locator: ["PGPASSFILE"],
};

export const definition: BackendDefinition<StoreBackendOptions> = {
  type: "store",
  optionsSchema,
  create: (options, { name, env }) => createStoreBackend({ ...options, name, env }),
  credentialVariables: () => credentialVariables,
};
