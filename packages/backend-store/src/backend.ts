/**
 * `createStoreBackend`: Keyway's own encrypted store as a SecretBackend. The engine (PostgreSQL or
 * the embedded SQLite folder) holds sealed rows; this module checks references and options,
 * seals and opens values (crypto.ts), and turns what the engine found into Keyway's errors.
 */
import {
  assertNamespace,
  assertTenant,
  type BackendCapabilities,
  type ChangeListener,
  ConfigurationError,
  ConflictError,
  type GetOptions,
  InvalidSecretValueError,
  type ListOptions,
  type PrepareOptions,
  type ProbeOptions,
  type PutMetadata,
  ReadOnlyError,
  type SecretBackend,
  type SecretListing,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
  type Subscription,
  untilAborted,
  validateRef,
  type WriteOptions,
} from "@keyway/core/backend";
import { type Binding, seal, unseal } from "./crypto.js";
import type { Engine, SecretRow, StoredName } from "./engine.js";
import { createPostgresEngine } from "./engine-postgres.js";
import { createSqliteEngine } from "./engine-sqlite.js";
import { loadStoreKey, type StoreKey } from "./key.js";

/** Options of {@link createStoreBackend}: exactly one of `url` and `path`. */
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
  timeoutMs?: number | undefined;
  /** PostgreSQL connections in the pool. @default 10 */
  poolSize?: number | undefined;
  /** The largest value, in bytes. @default 1048576 */
  maxValueBytes?: number | undefined;
}

/** `list` of the store also filters by key prefix. */
export interface StoreListOptions extends ListOptions {
  /** Only keys starting with this. */
  prefix?: string | undefined;
}

/** The store backend: a SecretBackend with restore, purge, subscribe and prefix listing. */
export interface StoreBackend extends SecretBackend {
  list(namespace: string, options?: StoreListOptions): Promise<SecretListing[]>;
  put(
    ref: SecretRef,
    value: string | Uint8Array,
    metadata?: PutMetadata,
    options?: WriteOptions,
  ): Promise<void>;
  delete(ref: SecretRef, options?: WriteOptions): Promise<void>;
  probeVersion(ref: SecretRef, options?: ProbeOptions): Promise<string>;
  subscribe(listener: ChangeListener, options?: PrepareOptions): Promise<Subscription>;
  prepare(options?: PrepareOptions): Promise<void>;
  close(): Promise<void>;
  restore(ref: SecretRef, options?: WriteOptions): Promise<void>;
  purge(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /** The engine in use: `postgres` or `sqlite`. */
  readonly engine: "postgres" | "sqlite";
}

const stored = (ref: SecretRef): StoredName => ({
  tenant: ref.tenant ?? "",
  namespace: ref.namespace,
  key: ref.key,
});

/** The engine for options holding exactly one of `url` and `path`. */
export function engineFor(options: StoreBackendOptions, name: string): Engine {
  const timeoutMs = options.timeoutMs ?? 10_000;
  if ((options.url === undefined) === (options.path === undefined))
    throw new ConfigurationError(
      `Store backend '${name}': give exactly one of url: (PostgreSQL) and path: (an embedded folder).`,
    );
  return options.url !== undefined
    ? createPostgresEngine({ url: options.url, backend: name, timeoutMs, poolSize: options.poolSize ?? 10 })
    : createSqliteEngine({ path: options.path as string, backend: name, timeoutMs });
}

/**
 * Creates the store backend. Connects lazily (or at `prepare()`); the key is read then too, so a
 * missing or wrong key is a ConfigurationError naming KEYWAY_STORE_KEY or the key file, and a key
 * other than the store's names both key ids.
 * @example
 * const store = createStoreBackend({ path: ".keyway/store", keyFile: ".keyway/store.key" });
 */
export function createStoreBackend(options: StoreBackendOptions): StoreBackend {
  const name = options.name ?? "store";
  const keep = options.keepVersions ?? 10;
  const engine = engineFor(options, name);
  const capabilities: BackendCapabilities = {
    write: options.readOnly !== true,
    list: true,
    batch: false,
    versions: true,
    caseSensitiveKeys: true,
    maxValueBytes: options.maxValueBytes ?? 1_048_576,
    compareAndSet: true,
    softDelete: true,
  };
  let ready: Promise<{ key: StoreKey; storeId: string }> | undefined;
  const open = () => {
    ready ??= (async () => {
      const key = loadStoreKey(options.keyFile, options.env ?? process.env);
      const meta = await engine.meta();
      if (meta.store_id === undefined)
        throw new ConfigurationError(
          `Store backend '${name}': the store has no id; was it created by \`keyway store init\`?`,
          {
            backend: name,
          },
        );
      if (meta.key_id !== undefined && meta.key_id !== key.id && meta.rotating_to !== key.id)
        throw wrongKey(key, meta.key_id);
      return { key, storeId: meta.store_id };
    })();
    // A failed open (server down, key missing) is tried again by the next call.
    ready.catch(() => {
      ready = undefined;
    });
    return ready;
  };
  const wrongKey = (key: StoreKey, storedId: string) =>
    new ConfigurationError(
      `Store backend '${name}': the store is encrypted with key id ${storedId}, but the key in ${key.source} has id ${key.id}.`,
      { backend: name },
    );
  const notFound = (ref: SecretRef) => new SecretNotFoundError(ref.key, { backend: name });
  const writable = (ref: SecretRef) => {
    if (options.readOnly)
      throw new ReadOnlyError(`Store backend '${name}' is read-only; '${ref.key}' was not written.`, {
        backend: name,
      });
  };
  const metadataOf = (secret: SecretRow, version: number): SecretValue["metadata"] => ({
    description: secret.description,
    tags: secret.tags,
    version: String(version),
    updatedAt: new Date(secret.updatedAt),
  });
  const binding = (storeId: string, ref: SecretRef, version: number): Binding => ({
    storeId,
    ...stored(ref),
    version,
  });

  const removal = async (
    input: SecretRef,
    operation: "delete" | "restore" | "purge",
    writeOptions: WriteOptions = {},
  ) => {
    const ref = validateRef(input);
    writable(ref);
    await untilAborted(open(), writeOptions.signal, `Opening store '${name}'`, name);
    const outcome = await untilAborted(
      engine.remove(stored(ref), operation, writeOptions.ifVersion),
      writeOptions.signal,
      `Writing '${ref.key}'`,
      name,
    );
    if (outcome === "missing") throw notFound(ref);
    if (outcome === "conflict")
      throw new ConflictError(
        `Secret '${ref.key}' is not at the version the write expected; nothing was changed.`,
        {
          backend: name,
        },
      );
  };

  return {
    name,
    capabilities,
    engine: engine.kind,

    async get(input, getOptions: GetOptions = {}) {
      const ref = validateRef(input);
      let version: number | undefined;
      if (getOptions.version !== undefined) {
        if (!/^[0-9]{1,15}$/.test(getOptions.version)) throw notFound(ref);
        version = Number(getOptions.version);
      }
      const { key, storeId } = await untilAborted(open(), getOptions.signal, `Opening store '${name}'`, name);
      const found = await untilAborted(
        engine.read(stored(ref), version),
        getOptions.signal,
        `Reading '${ref.key}'`,
        name,
      );
      if (!found) throw notFound(ref);
      const { secret, row } = found;
      if (row.kekId !== key.id) throw wrongKey(key, row.kekId);
      let plaintext: Buffer;
      try {
        plaintext = unseal(key.bytes, binding(storeId, ref, row.version), row);
      } catch {
        throw new InvalidSecretValueError(
          `Secret '${ref.key}' version ${row.version} cannot be decrypted: its row was altered or copied from another name or store.`,
          { backend: name },
        );
      }
      const metadata = metadataOf(secret, row.version);
      return row.binary
        ? SecretValue.fromBytes(plaintext, metadata)
        : SecretValue.fromText(plaintext.toString("utf8"), metadata);
    },

    async list(namespace, listOptions: StoreListOptions = {}) {
      assertNamespace(namespace);
      assertTenant(listOptions.tenant);
      await untilAborted(open(), listOptions.signal, `Opening store '${name}'`, name);
      const rows = await untilAborted(
        engine.list(listOptions.tenant ?? "", namespace, listOptions.prefix ?? ""),
        listOptions.signal,
        `Listing '${namespace}'`,
        name,
      );
      return rows.map(({ key, secret }) => ({ key, metadata: metadataOf(secret, secret.currentVersion) }));
    },

    async put(input, value, metadata: PutMetadata = {}, writeOptions: WriteOptions = {}) {
      const ref = validateRef(input);
      writable(ref);
      const plaintext = typeof value === "string" ? Buffer.from(value, "utf8") : Buffer.from(value);
      if (plaintext.length > capabilities.maxValueBytes)
        throw new InvalidSecretValueError(
          `Secret '${ref.key}' is ${plaintext.length} bytes; store '${name}' keeps at most ${capabilities.maxValueBytes}.`,
          { backend: name },
        );
      const { key, storeId } = await untilAborted(
        open(),
        writeOptions.signal,
        `Opening store '${name}'`,
        name,
      );
      try {
        await untilAborted(
          engine.write({
            name: stored(ref),
            ifVersion: writeOptions.ifVersion,
            description: metadata.description,
            tags: metadata.tags,
            keep,
            seal: (version) => ({
              kekId: key.id,
              binary: typeof value !== "string",
              ...seal(key.bytes, binding(storeId, ref, version), plaintext),
            }),
          }),
          writeOptions.signal,
          `Writing '${ref.key}'`,
          name,
        );
      } finally {
        plaintext.fill(0);
      }
    },

    delete: (ref, writeOptions) => removal(ref, "delete", writeOptions),
    restore: (ref, writeOptions) => removal(ref, "restore", writeOptions),
    purge: (ref, writeOptions) => removal(ref, "purge", writeOptions),

    async probeVersion(input, probeOptions = {}) {
      const ref = validateRef(input);
      await untilAborted(open(), probeOptions.signal, `Opening store '${name}'`, name);
      const current = await untilAborted(
        engine.current(stored(ref)),
        probeOptions.signal,
        `Reading '${ref.key}'`,
        name,
      );
      if (current === undefined) throw notFound(ref);
      return String(current);
    },

    async subscribe(listener, subscribeOptions = {}): Promise<Subscription> {
      await untilAborted(open(), subscribeOptions.signal, `Opening store '${name}'`, name);
      const stop = await engine.subscribe(
        (c) =>
          listener.change({
            namespace: c.namespace,
            key: c.key,
            tenant: c.tenant === "" ? undefined : c.tenant,
            version: c.version === undefined ? undefined : String(c.version),
            deleted: c.deleted || undefined,
          }),
        (error) => listener.lost(error),
      );
      return { close: stop };
    },

    async prepare(prepareOptions = {}) {
      await untilAborted(open(), prepareOptions.signal, `Opening store '${name}'`, name);
    },

    async close() {
      await engine.close();
    },
  };
}
