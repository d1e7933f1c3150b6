// @ts-check
/**
 * An example Keyway backend: secrets in a JSON file, read-only or writable. The whole of a
 * backend in one file: the `SecretBackend` contract (get, list, put, delete, capabilities), and
 * the `definition` that lets keyway.yaml name this package as a backend type:
 *
 *   backends:
 *     local: { type: "@example/keyway-backend-json-file", file: ./secrets.json, writable: true }
 *
 * The file maps a namespace ("" is the root; "<tenant>/<namespace>" for a tenant) to its keys:
 *
 *   { "company.team": { "API_TOKEN": "t0ken", "DB": { "value": "…", "description": "…", "tags": { "team": "data" } } } }
 *
 * It passes the contract suite (`@keyway/backend-test-suite`, test/contract.test.ts).
 */
import { randomBytes } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import {
  assertNamespace,
  assertTenant,
  BackendUnavailableError,
  InvalidSecretValueError,
  SecretNotFoundError,
  SecretValue,
  validateRef,
} from "@keyway/core/backend";
import { z } from "zod";

/**
 * @typedef {import("@keyway/core/backend").SecretBackend} SecretBackend
 * @typedef {import("@keyway/core/backend").SecretRef} SecretRef
 * @typedef {import("@keyway/core/backend").PutMetadata} PutMetadata
 * @typedef {{ value: string, description?: string, tags?: Record<string, string>, updatedAt?: string }} Entry
 * @typedef {Record<string, Record<string, string | Entry>>} Contents
 */

/**
 * @typedef {object} JsonFileBackendOptions
 * @property {string} file The JSON file (relative paths from the working directory).
 * @property {boolean} [writable] Whether put and delete write the file. Default false.
 * @property {number} [maxValueBytes] Largest value in bytes. Default 65536.
 * @property {string} [name] The backend's name in errors. Default "json-file".
 */

/**
 * A backend over one JSON file, read at every call (a hand edit shows at once). Writes replace
 * the file atomically (a temporary file, then a rename) and run one at a time.
 * @param {JsonFileBackendOptions} options
 * @returns {SecretBackend}
 */
export function createJsonFileBackend(options) {
  const name = options.name ?? "json-file";
  const writable = options.writable ?? false;
  const capabilities = {
    write: writable,
    list: true,
    batch: false,
    versions: false,
    caseSensitiveKeys: true,
    maxValueBytes: options.maxValueBytes ?? 65536,
  };
  /** @type {Promise<unknown>} */
  let writes = Promise.resolve();

  /** The file's contents. Missing: empty when writable (the first put creates it), else unavailable. */
  const load = async () => {
    let text;
    try {
      text = await readFile(options.file, "utf8");
    } catch (error) {
      const code = /** @type {{ code?: string }} */ (error).code;
      if (code === "ENOENT" && writable) return /** @type {Contents} */ ({});
      throw new BackendUnavailableError(
        `Cannot read the secrets file of backend '${name}' (${code ?? "error"}).`,
        {
          backend: name,
        },
      );
    }
    try {
      return /** @type {Contents} */ (JSON.parse(text));
    } catch {
      // Not the SyntaxError as cause: its message quotes the file's text, which holds secrets.
      throw new BackendUnavailableError(`The secrets file of backend '${name}' is not valid JSON.`, {
        backend: name,
      });
    }
  };
  /** @param {SecretRef} ref */
  const folder = (ref) => (ref.tenant === undefined ? ref.namespace : `${ref.tenant}/${ref.namespace}`);
  /** @param {unknown} stored @returns {Entry} */
  const entry = (stored) => {
    const found = typeof stored === "string" ? { value: stored } : /** @type {Entry} */ (stored);
    if (typeof found?.value !== "string")
      throw new BackendUnavailableError(
        `The secrets file of backend '${name}' holds an entry without a string value.`,
        {
          backend: name,
        },
      );
    return found;
  };
  /** @param {(contents: Contents) => void} change */
  const update = (change) => {
    const next = writes.then(async () => {
      const contents = await load();
      change(contents);
      const temporary = `${options.file}.${randomBytes(6).toString("hex")}.tmp`;
      await writeFile(temporary, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
      await rename(temporary, options.file);
    });
    writes = next.catch(() => {});
    return next;
  };

  return {
    name,
    capabilities,
    async prepare() {
      await load();
    },
    async get(input) {
      const ref = validateRef(input);
      const stored = own(own(await load(), folder(ref)), ref.key);
      if (stored === undefined) throw new SecretNotFoundError(ref.key, { backend: name });
      const { value, description, tags, updatedAt } = entry(stored);
      return SecretValue.fromText(value, {
        ...(description === undefined ? {} : { description }),
        ...(tags === undefined ? {} : { tags }),
        ...(updatedAt === undefined ? {} : { updatedAt: new Date(updatedAt) }),
      });
    },
    async list(namespace, listOptions = {}) {
      assertNamespace(namespace);
      assertTenant(listOptions.tenant);
      const at = listOptions.tenant === undefined ? namespace : `${listOptions.tenant}/${namespace}`;
      const keys = Object.entries(own(await load(), at) ?? {});
      return keys
        .map(([key, stored]) => {
          const { description, tags } = entry(stored);
          return {
            key,
            metadata: { ...(description === undefined ? {} : { description }), ...(tags ? { tags } : {}) },
          };
        })
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    ...(writable && {
      /** @param {SecretRef} input @param {string | Uint8Array} value @param {PutMetadata} [metadata] */
      async put(input, value, metadata = {}) {
        const ref = validateRef(input);
        const text =
          typeof value === "string" ? value : new TextDecoder("utf-8", { fatal: true }).decode(value);
        const bytes = Buffer.byteLength(text, "utf8");
        if (bytes > capabilities.maxValueBytes)
          throw new InvalidSecretValueError(
            `Secret '${ref.key}' is ${bytes} bytes; backend '${name}' stores at most ${capabilities.maxValueBytes}.`,
            { backend: name },
          );
        await update((contents) => {
          const keys = own(contents, folder(ref)) ?? set(contents, folder(ref), {});
          const before = own(keys, ref.key);
          set(keys, ref.key, {
            ...(before === undefined ? {} : entry(before)),
            ...metadata,
            value: text,
            updatedAt: new Date().toISOString(),
          });
        });
      },
      /** @param {SecretRef} input */
      async delete(input) {
        const ref = validateRef(input);
        await update((contents) => {
          const keys = own(contents, folder(ref));
          if (own(keys, ref.key) === undefined) throw new SecretNotFoundError(ref.key, { backend: name });
          delete keys?.[ref.key];
        });
      },
    }),
  };
}

/**
 * `object[key]` only when it is the object's own: a namespace or key named `__proto__` or
 * `constructor` is data here, never the prototype.
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

const optionsSchema = z.strictObject({
  file: z.string().min(1),
  writable: z.boolean().optional(),
  maxValueBytes: z.number().int().positive().optional(),
});

/**
 * What keyway.yaml loads when a backend's `type:` is this package: the options schema (the only
 * validator of its options) and how to create the backend. Not connected yet: files are read on use.
 * @type {import("@keyway/core/backend").BackendDefinition<z.infer<typeof optionsSchema>>}
 */
export const definition = {
  type: "json-file",
  optionsSchema,
  create: (options, { name }) => createJsonFileBackend({ ...options, name }),
};
