/**
 * The backend manifest (backends.json at the root), read and checked once: what the Vitest
 * projects, the container script, the reliability suites, the meta tests and the README's
 * package table are derived from. Adding a backend: its package, plus one entry there.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const entrySchema = z
  .strictObject({
    /** The `type:` in keyway.yaml. */
    type: z.string().regex(/^[a-z0-9-]+$/),
    /** The npm name. */
    package: z.string().min(1),
    /** From the repository root; `packages/backend-<type>` unless given. */
    dir: z.string().optional(),
    /** Its row in the README's package table (published backends). */
    summary: z.string().optional(),
    /** The test servers (@keyway/test-servers names) its `*.server.test.ts` suite needs. */
    servers: z.array(z.string()).default([]),
    /** Outside CI, a missing server leaves the suite out with a warning. */
    optional: z.boolean().default(false),
    /** The server the reliability suite puts faults in front of. */
    faults: z.string().optional(),
    /** The endpoints scripts/test-containers.sh sets (docker compose). */
    containers: z.record(z.string(), z.string()).default({}),
    /** An example, not a published package. */
    example: z.boolean().default(false),
  })
  .refine(
    (b) => b.faults === undefined || b.servers.includes(b.faults),
    "'faults' must be one of its servers",
  )
  .refine((b) => b.example || b.summary !== undefined, "a published backend needs a 'summary'")
  .transform((b) => ({ ...b, dir: b.dir ?? `packages/backend-${b.type}` }));

/** One backend in backends.json (see its `$comment`). */
export type BackendEntry = z.output<typeof entrySchema>;

const file = fileURLToPath(new URL("../backends.json", import.meta.url));
const manifest = z
  .strictObject({ $comment: z.string(), backends: z.array(entrySchema).min(1) })
  .parse(JSON.parse(readFileSync(file, "utf8")));

/** Every backend, in the manifest's order. */
export const BACKENDS: readonly BackendEntry[] = manifest.backends;

/** The backends with a server suite: one Vitest project `backend-<type>` each. */
export const SERVER_BACKENDS = BACKENDS.filter((b) => b.servers.length > 0);

/** The servers the reliability suite puts faults in front of, one per backend that has one. */
export const FAULT_SERVERS = BACKENDS.flatMap((b) => (b.faults ? [b.faults] : []));
