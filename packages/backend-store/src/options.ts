/**
 * The options of the store backend: the zod schemas (the only validator: `keyway.yaml` through
 * definition.ts, `createStoreBackend` through defineBackend) and the defaults.
 */
import { renamedOption } from "@keyway/core/backend";
import { z } from "zod";

const fields = {
  /** A PostgreSQL connection URL: the server engine. */
  url: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  /** A folder on disk: the embedded engine. */
  path: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  keepVersions: z.int().min(1).max(1000).optional(),
  readOnly: z.boolean().optional(),
  requestTimeoutMs: z.number().positive().optional(),
  /** @deprecated the old name of `requestTimeoutMs` (read with a warning). */
  timeoutMs: z.number().positive().optional(),
  poolSize: z.int().min(1).max(100).optional(),
  maxValueBytes: z
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .optional(),
  /** Data keys kept unwrapped in memory (never a value). 0 turns the cache off. */
  dataKeyCacheSize: z.int().min(0).max(1_000_000).optional(),
};

const oneEngine = {
  check: (o: { url?: string | undefined; path?: string | undefined }) =>
    (o.url === undefined) !== (o.path === undefined),
  params: { error: "give exactly one of url: (PostgreSQL) and path: (an embedded folder)" },
};

/** The options of `type: store` in `keyway.yaml`. */
export const storeOptionsSchema = z.strictObject(fields).refine(oneEngine.check, oneEngine.params);

/** The options of `createStoreBackend`: the file's, a `name` and the `env` the key is read from; defaults applied. */
export const storeBackendSchema = z
  .strictObject({
    ...fields,
    name: z.string().min(1).optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
  })
  .refine(oneEngine.check, oneEngine.params)
  .transform(({ timeoutMs: _renamed, ...o }) => ({
    ...o,
    env: o.env ?? process.env,
    keepVersions: o.keepVersions ?? 10,
    readOnly: o.readOnly ?? false,
    requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
    poolSize: o.poolSize ?? 10,
    maxValueBytes: o.maxValueBytes ?? 1_048_576,
    dataKeyCacheSize: o.dataKeyCacheSize ?? 1000,
  }));

/** The options after the schema, defaults applied. */
export type StoreSettings = z.output<typeof storeBackendSchema>;

/** Options of `createStoreBackend`: exactly one of `url` and `path`. */
export interface StoreBackendOptions {
  /** The backend's name in errors and stats. @default "store" */
  name?: string | undefined;
  /** A PostgreSQL connection URL (`postgres://user@host:5432/db`): the server engine. */
  url?: string | undefined;
  /** A folder on disk (`.keyway/store`): the embedded engine. */
  path?: string | undefined;
  /** A file holding the key-encryption key (base64 of 32 bytes). @default KEYWAY_STORE_KEY */
  keyFile?: string | undefined;
  /** Where KEYWAY_STORE_KEY is read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Versions kept per secret; older ones are removed on write. @default 10 */
  keepVersions?: number | undefined;
  /** Refuse every write with ReadOnlyError. @default false */
  readOnly?: boolean | undefined;
  /** How long a query (PostgreSQL) or a wait for the write lock (embedded) may take. @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** @deprecated Use `requestTimeoutMs` (read with a one-time warning, KEYWAY_DEP_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
  /** PostgreSQL connections in the pool. @default 10 */
  poolSize?: number | undefined;
  /** The largest value, in bytes. @default 1048576 */
  maxValueBytes?: number | undefined;
  /**
   * Data keys kept unwrapped in memory, least recently used dropped first, so a repeated read
   * decrypts once instead of twice. Values are never cached. 0 turns it off. @default 1000
   */
  dataKeyCacheSize?: number | undefined;
}

/** `timeoutMs` (the old name) is read as `requestTimeoutMs`, with a one-time deprecation warning. */
export const renameTimeout = <O extends object>(options: O): O =>
  renamedOption(options, "timeoutMs", "requestTimeoutMs", "KEYWAY_DEP_TIMEOUT_MS");
