/**
 * The options of the GCP backend: the zod schemas (the only validator: `keyway.yaml` through
 * definition.ts, `createGcpBackend` through defineBackend) and the defaults. Messages never echo
 * a value (a service-account key is a credential).
 */
import { renamedOption } from "@keyway/core/backend";
import { z } from "zod";
import { type GcpCredentials, type GcpSecretManagerClient, parseEndpoint } from "./client.js";
import { PREFIX_PATTERN } from "./names.js";

const credentialsSchema = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("adc") }),
  z.strictObject({ type: z.literal("key_file"), keyFilename: z.string().min(1) }),
  // A service-account key file's JSON, as Google issues it (its other fields pass through).
  z.looseObject({
    type: z.literal("service_account"),
    client_email: z.string().includes("@"),
    private_key: z.string().includes("PRIVATE KEY", { error: "must be a PEM private key" }),
  }),
]);

const fields = {
  // Project ids (`my-project-123`), numbers (`123456789`) and legacy domain-scoped ids (`example.com:p`).
  project: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}$/, { error: "must be a project id or number" }),
  prefix: z.string().regex(PREFIX_PATTERN, { error: "use at most 100 of A-Z a-z 0-9 _ -" }).optional(),
  credentials: credentialsSchema.optional(),
  emulatorEndpoint: z
    .string()
    .refine((endpoint) => parseEndpoint(endpoint) !== undefined, { error: "must be host:port" })
    .optional(),
  requestTimeoutMs: z.int().positive().optional(),
  /** @deprecated the old name of `requestTimeoutMs` (read with a warning). */
  timeoutMs: z.int().positive().optional(),
  listPageSize: z.int().min(1).max(25_000).optional(),
  readSecretMetadata: z.boolean().optional(),
};

/** The emulator channel is plaintext: a credential given with it would be a mistake to send. */
const noCredentialsWithEmulator = {
  check: (o: { emulatorEndpoint?: string | undefined; credentials?: { type: string } | undefined }) =>
    o.emulatorEndpoint === undefined || o.credentials === undefined || o.credentials.type === "adc",
  params: {
    error: "'emulatorEndpoint' takes no 'credentials' (the emulator needs none)",
    path: ["credentials"],
  },
};

/** The options of `type: gcp` in `keyway.yaml`. */
export const gcpOptionsSchema = z
  .strictObject(fields)
  .refine(noCredentialsWithEmulator.check, noCredentialsWithEmulator.params);

/** The options of `createGcpBackend`: the file's, a `name` and an injected `client`, defaults applied. */
export const gcpBackendSchema = z
  .strictObject({
    ...fields,
    name: z.string().min(1).optional(),
    client: z
      .custom<GcpSecretManagerClient>(
        (c) => typeof c === "object" && c !== null,
        "must be a Secret Manager client",
      )
      .optional(),
  })
  .refine(noCredentialsWithEmulator.check, noCredentialsWithEmulator.params)
  .transform(({ timeoutMs: _renamed, ...o }) => {
    const credentials: GcpCredentials = (o.credentials as GcpCredentials | undefined) ?? { type: "adc" };
    return {
      ...o,
      prefix: o.prefix ?? "keyway",
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
      listPageSize: o.listPageSize ?? 250,
      readSecretMetadata: o.readSecretMetadata ?? true,
      credentials,
      emulator: o.emulatorEndpoint === undefined ? undefined : parseEndpoint(o.emulatorEndpoint),
      /** Strings to scrub from any error cause. */
      secrets: credentials.type === "service_account" ? [credentials.private_key] : [],
    };
  });

/** The options after the schema, defaults applied. */
export type GcpSettings = z.output<typeof gcpBackendSchema>;

/** `timeoutMs` (the old name) is read as `requestTimeoutMs`, with a one-time deprecation warning. */
export const renameTimeout = <O extends object>(options: O): O =>
  renamedOption(options, "timeoutMs", "requestTimeoutMs", "KEYWAY_DEP_TIMEOUT_MS");
