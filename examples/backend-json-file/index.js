// @ts-check
/**
 * An example Keyway backend: secrets in a JSON file, read-only or writable, on the kit
 * (`defineBackend` from `@keyway/core/backend`). The kit checks the options with the schema below,
 * every reference before an operation runs, and a value's type and size before `put`; it sorts
 * listings and passes whatever the operations throw that is not a Keyway error to `mapError`,
 * once. What is left here is the file: read it, find a key, write it back.
 *
 * The file maps a namespace ("" is the root; "<tenant>/<namespace>" for a tenant) to its keys:
 *
 *   { "company.team": { "API_TOKEN": "t0ken", "DB": { "value": "…", "description": "…", "tags": { "team": "data" } } } }
 *
 * keyway.yaml names this package as a backend type through `definition`, at the end:
 *
 *   backends:
 *     local: { type: "@example/keyway-backend-json-file", file: ./secrets.json, writable: true }
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import {
  BackendUnavailableError,
  defineBackend,
  InvalidSecretValueError,
  SecretNotFoundError,
  SecretValue,
  sanitizeCause,
} from "@keyway/core/backend";
import { z } from "zod";

/** The options keyway.yaml may set: this schema is their only check. */
const fileOptions = z.strictObject({
  /** The JSON file; a relative path is from the working directory. */
  file: z.string().min(1),
  /** Whether `put` and `delete` rewrite the file. */
  writable: z.boolean().default(false),
  /** The largest value, in UTF-8 bytes. */
  maxValueBytes: z.int().positive().default(65_536),
});

/** The factory's options: the file's, and the backend's name in errors. */
const backendOptions = fileOptions.extend({ name: z.string().min(1).optional() });

/**
 * @typedef {z.input<typeof backendOptions>} JsonFileBackendOptions
 * @typedef {import("@keyway/core/backend").SecretBackend} SecretBackend
 * @typedef {{ value: string, description?: string, tags?: Record<string, string>, updatedAt?: string }} Entry
 * @typedef {Record<string, Record<string, string | Entry>>} Contents
 */

/**
 * Creates the backend. It reads the file at every call (a hand edit shows at once); when
 * writable, it replaces the file atomically (a temporary file, then a rename), one write at a time.
 * @type {(options: JsonFileBackendOptions) => SecretBackend}
 */
export const createJsonFileBackend = defineBackend({
  vendor: "the JSON file backend",
  defaultName: "json-file",
  options: backendOptions,
  capabilities: ({ writable, maxValueBytes }) => ({
    write: writable,
    list: true,
    batch: false,
    versions: false,
    caseSensitiveKeys: true,
    maxValueBytes,
  }),
  // What the operations throw that is not a Keyway error: JSON.parse's and the file system's errors.
  mapError: (error, { backend }) => {
    // Not kept as the cause: JSON.parse's message quotes the file, which holds secrets.
    if (error instanceof SyntaxError) return unusable(backend, "is not valid JSON");
    const code = /** @type {NodeJS.ErrnoException | null} */ (error)?.code; // ENOENT, EACCES, EISDIR, …
    return new BackendUnavailableError(`The secrets file of backend '${backend}' cannot be used (${code}).`, {
      backend,
      cause: sanitizeCause(error),
    });
  },
  operations: ({ name, settings }) => {
    const file = secretsFile(settings.file, settings.writable, name);
    return {
      async prepare() {
        await file.read();
      },
      async get(ref) {
        const stored = own(keysIn(await file.read(), folderOf(ref), name), ref.key);
        if (stored === undefined) throw new SecretNotFoundError(ref.key, { backend: name });
        const entry = entryOf(stored, name);
        return SecretValue.fromText(entry.value, {
          ...metadataOf(entry),
          ...(entry.updatedAt === undefined ? {} : { updatedAt: new Date(entry.updatedAt) }),
        });
      },
      async list(namespace, { tenant }) {
        const keys = keysIn(await file.read(), folderOf({ namespace, tenant }), name) ?? {};
        return Object.entries(keys).map(([key, stored]) => ({
          key,
          metadata: metadataOf(entryOf(stored, name)),
        }));
      },
      ...(settings.writable && {
        async put(ref, value, metadata) {
          const text = typeof value === "string" ? value : textOf(value, name);
          await file.update((contents) => {
            const keys = keysIn(contents, folderOf(ref), name) ?? set(contents, folderOf(ref), {});
            const before = own(keys, ref.key);
            set(keys, ref.key, {
              ...(before === undefined ? {} : entryOf(before, name)),
              ...metadata,
              value: text,
              updatedAt: new Date().toISOString(),
            });
          });
        },
        async delete(ref) {
          await file.update((contents) => {
            const keys = keysIn(contents, folderOf(ref), name);
            if (keys === undefined || own(keys, ref.key) === undefined)
              throw new SecretNotFoundError(ref.key, { backend: name });
            delete keys[ref.key];
          });
        },
      }),
    };
  },
});

/**
 * The file: `read` parses it (missing: empty when writable, since the first `put` creates it);
 * `update` runs `change` on a fresh read and writes the result, one update at a time.
 * @param {string} path
 * @param {boolean} writable
 * @param {string} backend
 */
function secretsFile(path, writable, backend) {
  /** @type {Promise<unknown>} */
  let writes = Promise.resolve();
  /** @returns {Promise<Contents>} */
  const read = async () => {
    const text = await readFile(path, "utf8").catch((/** @type {NodeJS.ErrnoException} */ error) => {
      if (error.code === "ENOENT" && writable) return "{}";
      throw error;
    });
    const contents = JSON.parse(text);
    if (!isObject(contents)) throw unusable(backend, "is not a JSON object");
    return contents;
  };
  /** @param {(contents: Contents) => void} change */
  const update = (change) => {
    const next = writes.then(async () => {
      const contents = await read();
      change(contents);
      const temporary = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(temporary, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, path);
    });
    writes = next.catch(() => {}); // a failed update does not stop the next
    return next;
  };
  return { read, update };
}

/**
 * Where a reference's keys are in the file.
 * @param {{ namespace: string, tenant?: string | undefined }} ref
 */
function folderOf(ref) {
  return ref.tenant === undefined ? ref.namespace : `${ref.tenant}/${ref.namespace}`;
}

/**
 * The keys of a folder, if the file has it.
 * @param {Contents} contents
 * @param {string} folder
 * @param {string} backend
 */
function keysIn(contents, folder, backend) {
  const keys = own(contents, folder);
  if (keys !== undefined && !isObject(keys))
    throw unusable(backend, "holds a namespace that is not an object");
  return keys;
}

/**
 * A stored key as an entry: a string is its value.
 * @param {unknown} stored
 * @param {string} backend
 * @returns {Entry}
 */
function entryOf(stored, backend) {
  const entry = typeof stored === "string" ? { value: stored } : /** @type {Entry} */ (stored);
  if (!isObject(entry) || typeof entry.value !== "string")
    throw unusable(backend, "holds an entry without a string value");
  return entry;
}

/**
 * The metadata an entry holds (and nothing else it may hold).
 * @param {Entry} entry
 */
function metadataOf({ description, tags }) {
  return { ...(description === undefined ? {} : { description }), ...(tags && { tags }) };
}

/**
 * A file that is not what this backend writes: unavailable (never not-found, which would send the
 * router to the parent namespace), and the error quotes none of it.
 * @param {string} backend
 * @param {string} what
 */
function unusable(backend, what) {
  return new BackendUnavailableError(`The secrets file of backend '${backend}' ${what}.`, { backend });
}

/**
 * Whether `value` is a JSON object (not an array, not null).
 * @param {unknown} value
 * @returns {value is Record<string, any>}
 */
function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The text of a value given as bytes: the file holds text, so they must be UTF-8.
 * @param {Uint8Array} bytes
 * @param {string} backend
 */
function textOf(bytes, backend) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidSecretValueError("The value is not UTF-8 text, which a JSON file holds.", { backend });
  }
}

/**
 * `object[key]` only when it is the object's own: a namespace or key named `__proto__` or
 * `constructor` is data here, never the prototype. (zod's `record` would drop a `__proto__` key,
 * so the file's shape is checked by hand.)
 * @template T
 * @param {Record<string, T> | undefined} object
 * @param {string} key
 * @returns {T | undefined}
 */
function own(object, key) {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * `object[key] = value` as an own property, whatever the key (`__proto__` included).
 * @template T
 * @param {Record<string, T>} object
 * @param {string} key
 * @param {T} value
 * @returns {T}
 */
function set(object, key, value) {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/**
 * What keyway.yaml loads when a backend's `type:` is this package: the options schema and how to
 * create the backend (which touches no file until it is used).
 * @type {import("@keyway/core/backend").BackendDefinition<z.output<typeof fileOptions>>}
 */
export const definition = {
  type: "json-file",
  optionsSchema: fileOptions,
  create: (options, { name }) => createJsonFileBackend({ ...options, name }),
};
