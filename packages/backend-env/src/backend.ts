/**
 * The env backend's factory, given where its options schema comes from: index.ts imports the
 * definition entry (which loads zod) only when options are given; definition.ts passes its own.
 * Kept apart from both so neither imports the other.
 */
import {
  defineBackend,
  isValidKey,
  type OptionsSchema,
  parseOptions,
  type SecretBackend,
  type SecretListing,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core/backend";
import { duplicateError, VariableTable, variableValue } from "./read.js";
import { DEFAULT_PREFIX, type EnvSecretVariable } from "./variables.js";

/** Options of {@link createEnvBackend}. */
export interface EnvBackendOptions {
  /** The variables to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Variable name prefix, case-sensitive. @default "SECRET_" */
  prefix?: string | undefined;
  /** `base64` as Kestra; `raw` for plaintext injected by Kubernetes or External Secrets. @default "base64" */
  encoding?: "base64" | "raw" | undefined;
  /** The backend's name in errors and stats. @default "env" */
  name?: string | undefined;
  /** Where warnings go (never with a value). @default process.emitWarning */
  onWarning?: ((message: string) => void) | undefined;
}

/** The env backend's own extra: every variable it read, for redaction of raw text. */
export interface EnvBackend extends SecretBackend {
  /** Every `SECRET_` variable, valid or not (for `keyway redact`: plaintext put there by mistake). */
  variables(): readonly EnvSecretVariable[];
}

/** Makes `createEnvBackend`, checking given options with the schema `loadSchema` resolves to. */
export function envBackendFactory(
  loadSchema: () => Promise<OptionsSchema<unknown>>,
): (options?: EnvBackendOptions) => EnvBackend {
  return defineBackend({
    vendor: "the environment",
    defaultName: "env",
    capabilities: () => ({
      write: false,
      list: true,
      batch: false,
      versions: false,
      caseSensitiveKeys: false,
      global: true,
      maxValueBytes: 128 * 1024,
    }),
    // Only Keyway's own errors are thrown here.
    mapError: (error) => {
      throw error;
    },
    operations: ({ name, settings }: { name: string; settings: EnvBackendOptions }) => {
      const { env = process.env, prefix = DEFAULT_PREFIX, encoding = "base64" } = settings;
      const warn = settings.onWarning ?? ((message: string) => process.emitWarning(message, "KeywayWarning"));
      const table = new VariableTable(env, prefix);
      let checked: Promise<void> | undefined;
      /** The schema's verdict on the options given, once (zod is imported only when there are some). */
      const check = () => {
        if (settings.prefix === undefined && settings.encoding === undefined) return;
        checked ??= loadSchema().then((schema) => {
          parseOptions(schema, { prefix: settings.prefix, encoding: settings.encoding }, name);
        });
        return checked;
      };
      const single = (key: string, matches: EnvSecretVariable[] | undefined): EnvSecretVariable => {
        if (!matches) throw new SecretNotFoundError(key, { backend: name });
        if (matches.length > 1) throw duplicateError(matches, name);
        return matches[0] as EnvSecretVariable;
      };
      const operations = {
        variables: (): readonly EnvSecretVariable[] => table.variables,
        async get(ref: SecretRef) {
          await check();
          return variableValue(single(ref.key, table.find(ref.key.toUpperCase())), encoding, name);
        },
        /**
         * Env variables change only when they are read again, and this is that re-read: the key's
         * variables are read from `env` again and, when their text differs from what `get` served,
         * `get` serves the new text from now on. The version is a count of those changes ("1" at
         * creation), not a digest: a hash of a low-entropy secret would let anyone who sees the
         * version test guesses offline, and a count tells only that the value changed. It is this
         * backend instance's count (a new process starts again at "1").
         */
        async probeVersion(ref: SecretRef) {
          await check();
          const key = ref.key.toUpperCase();
          single(ref.key, table.reread(key));
          return String(1 + table.changes(key));
        },
        async list() {
          await check();
          const listed: SecretListing[] = [];
          for (const [key, matches] of table.keys()) {
            if (matches.length > 1) warn(duplicateError(matches, name).message);
            else if (!isValidKey(key))
              warn(`Environment variable ${matches[0]?.variable} is ignored: its key is not valid.`);
            else listed.push({ key, metadata: {} });
          }
          return listed;
        },
      };
      return operations;
    },
    extras: (operations) => ({ variables: operations.variables }),
  });
}
