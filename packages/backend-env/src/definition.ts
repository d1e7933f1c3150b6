/** `type: env` in `keyway.yaml`. */
import type { BackendDefinition } from "@keyway/core";
import { z } from "zod";
import { createEnvBackend, type EnvBackendOptions } from "./index.js";

const optionsSchema = z.strictObject({
  prefix: z.string().min(1).optional(),
  encoding: z.enum(["base64", "raw"]).optional(),
});

export const definition: BackendDefinition<EnvBackendOptions> = {
  type: "env",
  optionsSchema,
  create: (options, { name, env }) => createEnvBackend({ ...options, name, env }),
};
