/**
 * The env backend's options: the zod schema (its only validator, used by `keyway.yaml` through
 * definition.ts and, for options given to `createEnvBackend`, on first use: importing the backend
 * must not load zod, which would double `keyway get`'s start-up) and the defaults.
 */
import { z } from "zod";

/** The options a file can set. */
export const envOptionsSchema = z.strictObject({
  prefix: z.string().min(1).optional(),
  encoding: z.enum(["base64", "raw"]).optional(),
});
