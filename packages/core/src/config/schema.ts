/** The shape of `keyway.yaml`, validated with zod. Backend options are checked by each backend's own schema. */
import { z } from "zod";
import { isValidPackageType } from "./packages.js";

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `10s`, `5m`, `1h` (or a number of milliseconds) → milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") return input;
  const match = DURATION.exec(input);
  if (!match) throw new Error(`Invalid duration: use a number with ms, s, m or h, e.g. 10s.`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(DURATION, "use a number with ms, s, m or h, e.g. 10s"),
  ])
  .transform(parseDuration);

// `__proto__` would set the prototype of the parsed `backends` object instead of naming a backend.
const name = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, "use 1-64 characters of A-Z a-z 0-9 _ -")
  .refine((n) => n !== "__proto__", "'__proto__' cannot be a backend name");

export const configSchema = z.strictObject({
  cache: z
    .strictObject({
      maxEntries: z.number().int().positive().optional(),
      ttl: duration.optional(),
      negativeTtl: duration.optional(),
      staleIfError: duration.optional(),
      staleRetry: duration.optional(),
      jitter: z.number().min(0).max(0.9).optional(),
      refreshAhead: z.number().min(0).max(0.5).optional(),
    })
    .optional(),
  timeout: duration.optional(),
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).optional(),
      baseDelay: duration.optional(),
      maxDelay: duration.optional(),
    })
    .optional(),
  breaker: z
    .strictObject({
      threshold: z.number().int().min(0).optional(),
      cooldown: duration.optional(),
    })
    .optional(),
  // Node's file errors quote the path, and a NUL byte fails every write: refused here, by name.
  audit: z
    .strictObject({
      file: z
        .string()
        .min(1)
        .refine((file) => !file.includes("\0"), "a path cannot hold a NUL byte"),
    })
    .optional(),
  backends: z.record(
    name,
    z.looseObject({
      type: z
        .string()
        .refine(
          (type) => /^[a-z0-9-]{1,32}$/.test(type) || isValidPackageType(type),
          "use a backend type such as env, memory, aws, vault, azure or gcp, or a package name such as @acme/keyway-backend-foo",
        ),
    }),
  ),
  namespaces: z
    .array(
      z.strictObject({
        match: z.string(),
        tenant: z.string().optional(),
        backend: name,
        readOnly: z.boolean().optional(),
        allowedNamespaces: z.array(z.string()).optional(),
        fallback: z.array(name).optional(),
        shared: z.boolean().optional(),
      }),
    )
    .min(1, 'add at least one rule, e.g. { match: "", backend: env }'),
});

export type KeywayConfigInput = z.input<typeof configSchema>;
export type KeywayConfig = z.output<typeof configSchema>;
