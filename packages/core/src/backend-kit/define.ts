/**
 * `defineBackend()`: what every backend would otherwise write again, written once. A backend
 * gives its options schema, capabilities, vendor client factory, error mapping and operations;
 * the kit returns the factory, whose backends
 * - check the options with the schema (the backend's only validator) when created;
 * - create the vendor client on first use (`client ??=`, the SDK imported then), share it, try a
 *   failed creation again on the next call, and close only a client they created;
 * - check every reference (`validateRef`, `assertNamespace`, `assertTenant`) before an operation
 *   runs, and a value's type and size (`capabilities.maxValueBytes`) before a write;
 * - map every vendor error once (`mapError`; Keyway errors pass through) and sanitize it;
 * - return listings sorted by key, and a batch result for every ref given;
 * - prepare (client created, `operations.prepare` run) and close.
 */
import type {
  BackendCapabilities,
  ChangeListener,
  GetManyResult,
  GetOptions,
  ListOptions,
  OptionsSchema,
  PrepareOptions,
  ProbeOptions,
  PutMetadata,
  SecretBackend,
  SecretListing,
  SecretValue,
  Subscription,
  WriteOptions,
} from "../internal.js";
import {
  assertNamespace,
  assertTenant,
  BackendUnavailableError,
  InvalidSecretValueError,
  isSecretsError,
  type SecretRef,
  type SecretsError,
  validateRef,
} from "../internal.js";
import { parseOptions } from "./options.js";

/** The contract method an error came from, for `mapError`. */
export type BackendOperation =
  | "get"
  | "getMany"
  | "list"
  | "probeVersion"
  | "put"
  | "delete"
  | "restore"
  | "purge"
  | "subscribe"
  | "prepare";

/** What `mapError` is told besides the error. */
export interface ErrorContext {
  /** The backend's name. */
  readonly backend: string;
  readonly operation: BackendOperation;
  /** The key the operation was about, if one. */
  readonly key?: string | undefined;
  /** The caller's signal: an error after it aborted is the abort, not the vendor's answer. */
  readonly signal?: AbortSignal | undefined;
}

/** What the operations are given: the settings and the shared, lazily created client. */
export interface BackendKit<S, C> {
  /** The backend's name (in errors, stats and logs). */
  readonly name: string;
  /** The options after the schema (defaults applied). */
  readonly settings: S;
  readonly capabilities: BackendCapabilities;
  /** The vendor client, created on the first call and shared by every call after it. */
  client(): Promise<C>;
  /** Maps a vendor error to a Keyway error (a Keyway error passes through). */
  fail(error: unknown, context: Omit<ErrorContext, "backend">): SecretsError;
  /**
   * The check `put` runs before the operation: a string or bytes, within `maxValueBytes`. For a
   * backend's own write methods beyond the contract.
   * @throws InvalidSecretValueError
   */
  checkValue(value: unknown): string | Uint8Array;
}

/**
 * A backend's operations on already-checked input: references are valid, values are a string or
 * bytes within `maxValueBytes`. Errors they throw are mapped by `mapError` unless they are
 * Keyway errors already. Listings may come in any order.
 */
export interface BackendOperations {
  get(ref: SecretRef, options: GetOptions): Promise<SecretValue>;
  getMany?(refs: readonly SecretRef[], options: GetOptions): Promise<GetManyResult>;
  list?(namespace: string, options: ListOptions): Promise<SecretListing[]>;
  probeVersion?(ref: SecretRef, options: ProbeOptions): Promise<string>;
  /** `metadata` as the caller gave it: undefined (keep what is stored) is not `{}` (clear it). */
  put?(
    ref: SecretRef,
    value: string | Uint8Array,
    metadata: PutMetadata | undefined,
    options: WriteOptions,
  ): Promise<void>;
  delete?(ref: SecretRef, options: WriteOptions): Promise<void>;
  restore?(ref: SecretRef, options: WriteOptions): Promise<void>;
  purge?(ref: SecretRef, options: WriteOptions): Promise<void>;
  subscribe?(listener: ChangeListener, options: PrepareOptions): Promise<Subscription>;
  /** Runs after the client is created, in `prepare()` (e.g. resolve credentials, log in). */
  prepare?(options: PrepareOptions): Promise<void>;
  /** Runs in `close()`, before the kit closes the client it created. */
  close?(): Promise<void>;
}

/** How the vendor client is made. */
export interface ClientSpec<S, C> {
  /** Creates the client; the vendor SDK is imported here (`await import(…)`), never at load. */
  create(settings: S, name: string): Promise<C>;
  /** A client the caller configured and passed in: used as is, never closed. */
  injected?(settings: S): C | undefined;
  /** Closes a client `create` made. */
  close?(client: C): void | Promise<void>;
}

/** What a backend gives {@link defineBackend}. */
export interface BackendSpec<
  I,
  S,
  C,
  X extends object = object,
  O extends BackendOperations = BackendOperations,
> {
  /** The vendor, for messages ("AWS Secrets Manager"). */
  readonly vendor: string;
  /** The backend's name when the options give none, e.g. `aws`. */
  readonly defaultName: string;
  /**
   * The options schema (zod): the backend's only options validator. Its output are the settings,
   * with `name` when the options had one. Without it the options are the settings as given (a
   * backend whose import must not load zod checks them on first use instead).
   */
  readonly options?: OptionsSchema<S & { name?: string | undefined }>;
  /** Rewrites the options before the schema sees them (renamed options: see `renamedOption`). */
  readonly normalize?: (input: NonNullable<I>) => NonNullable<I>;
  readonly capabilities: (settings: S) => BackendCapabilities;
  /** The vendor client. Without it `client()` is never called. */
  readonly client?: ClientSpec<S, C>;
  /** Maps a vendor error (sanitizing its cause, scrubbing the credentials in `settings`: see `sanitizeCause`). */
  readonly mapError: (error: unknown, context: ErrorContext, settings: S) => SecretsError;
  /** The operations, given the kit. */
  readonly operations: (kit: BackendKit<S, C>) => O;
  /** Extra members of the backend object (e.g. the env backend's `variables()`), from its operations. */
  readonly extras?: (operations: O, kit: BackendKit<S, C>) => X;
}

/**
 * Defines a backend: returns its factory. See the module comment for what the kit does.
 * @example
 * export const createAcmeBackend = defineBackend({
 *   vendor: "Acme Vault", defaultName: "acme", options: acmeOptionsSchema,
 *   capabilities: () => ({ write: true, list: true, batch: false, versions: false,
 *     caseSensitiveKeys: true, maxValueBytes: 65_536 }),
 *   client: { create: async (s) => new (await import("acme-sdk")).Client(s.url) },
 *   mapError: mapAcmeError,
 *   operations: (kit) => ({ get: async (ref) => readAcme(await kit.client(), ref) }),
 * });
 */
export function defineBackend<
  I,
  S,
  C = never,
  X extends object = object,
  O extends BackendOperations = BackendOperations,
>(spec: BackendSpec<I, S, C, X, O>): (input: I) => SecretBackend & X {
  return (input) => {
    const given = (input ?? {}) as NonNullable<I> & { name?: unknown };
    const label = typeof given.name === "string" && given.name !== "" ? given.name : spec.defaultName;
    const normalized = spec.normalize ? spec.normalize(given) : given;
    const settings = spec.options
      ? parseOptions(spec.options, normalized, label)
      : (normalized as unknown as S & { name?: string | undefined });
    return assemble(spec, settings);
  };
}

function assemble<I, S, C, X extends object, O extends BackendOperations>(
  spec: BackendSpec<I, S, C, X, O>,
  settings: S & { name?: string | undefined },
): SecretBackend & X {
  const name = settings.name ?? spec.defaultName;
  const capabilities = spec.capabilities(settings);
  const injected = spec.client?.injected?.(settings);
  let created: Promise<C> | undefined;
  const client = (): Promise<C> => {
    if (injected !== undefined) return Promise.resolve(injected);
    if (!spec.client) throw new Error(`backend '${name}' has no client`);
    const make = spec.client;
    created ??= make.create(settings, name).catch((error: unknown) => {
      created = undefined; // a failed creation is tried again by the next call
      throw error;
    });
    return created;
  };
  const fail = (error: unknown, context: Omit<ErrorContext, "backend">): SecretsError =>
    isSecretsError(error) ? error : spec.mapError(error, { ...context, backend: name }, settings);
  const checkValue = (value: unknown): string | Uint8Array => {
    if (typeof value !== "string" && !(value instanceof Uint8Array))
      throw new InvalidSecretValueError("A secret value must be a string or a Uint8Array.", {
        backend: name,
      });
    const size = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.byteLength;
    if (size > capabilities.maxValueBytes)
      throw new InvalidSecretValueError(
        `The value is ${size} bytes; ${spec.vendor} stores at most ${capabilities.maxValueBytes}.`,
        { backend: name },
      );
    return value;
  };
  const kit: BackendKit<S, C> = { name, settings, capabilities, client, fail, checkValue };
  const ops = spec.operations(kit);

  /** Runs `run`, mapping what it throws once. */
  const guarded = async <T>(
    operation: BackendOperation,
    key: string | undefined,
    signal: AbortSignal | undefined,
    run: () => Promise<T>,
  ): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw fail(error, { operation, key, signal });
    }
  };
  /** A write-like operation on one ref. */
  const onRef = (
    operation: BackendOperation,
    run: ((ref: SecretRef, options: WriteOptions) => Promise<void>) | undefined,
  ) =>
    run &&
    (async (input: SecretRef, options: WriteOptions = {}) => {
      const ref = validateRef(input);
      return guarded(operation, ref.key, options.signal, () => run(ref, options));
    });

  const backend: SecretBackend = {
    name,
    capabilities,
    async get(input, options = {}) {
      const ref = validateRef(input);
      return guarded("get", ref.key, options.signal, () => ops.get(ref, options));
    },
    async prepare(options = {}) {
      await guarded("prepare", undefined, options.signal, async () => {
        if (spec.client) await client();
        await ops.prepare?.(options);
      });
    },
    async close() {
      const mine = created;
      created = undefined;
      await ops.close?.();
      const made = await mine?.catch(() => undefined);
      if (made !== undefined) await spec.client?.close?.(made);
    },
  };
  const list = ops.list;
  if (list)
    backend.list = async (namespace, options = {}) => {
      assertNamespace(namespace);
      assertTenant(options.tenant);
      const listed = await guarded("list", undefined, options.signal, () => list(namespace, options));
      return listed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    };
  const probe = ops.probeVersion;
  if (probe)
    backend.probeVersion = async (input, options = {}) => {
      const ref = validateRef(input);
      return guarded("probeVersion", ref.key, options.signal, () => probe(ref, options));
    };
  const getMany = ops.getMany;
  if (getMany)
    backend.getMany = async (inputs, options = {}) => {
      const out: GetManyResult = new Map();
      const valid: SecretRef[] = [];
      for (const input of inputs) {
        try {
          validateRef(input);
          valid.push(input);
        } catch (error) {
          out.set(input, fail(error, { operation: "getMany" }));
        }
      }
      const read = valid.length
        ? await guarded("getMany", undefined, options.signal, () => getMany(valid, options))
        : new Map();
      for (const ref of valid)
        out.set(
          ref,
          read.get(ref) ??
            new BackendUnavailableError(`No answer for secret '${ref.key}'.`, { backend: name }),
        );
      return out;
    };
  const put = ops.put;
  if (put)
    backend.put = async (input, value, metadata, options = {}) => {
      const ref = validateRef(input);
      const checked = checkValue(value);
      return guarded("put", ref.key, options.signal, () => put(ref, checked, metadata, options));
    };
  const del = onRef("delete", ops.delete);
  if (del) backend.delete = del;
  const restore = onRef("restore", ops.restore);
  if (restore) backend.restore = restore;
  const purge = onRef("purge", ops.purge);
  if (purge) backend.purge = purge;
  const subscribe = ops.subscribe;
  if (subscribe)
    backend.subscribe = async (listener, options = {}) =>
      guarded("subscribe", undefined, options.signal, () => subscribe(listener, options));
  return Object.assign(backend, spec.extras?.(ops, kit));
}
