/**
 * How a backend package plugs into `keyway.yaml`: `type: aws` loads
 * `@keyway/backend-aws/definition` on first use, whose `definition` validates the options (a
 * zod schema, so a wrong option is reported with its path before any connection) and creates
 * the backend. Typed structurally so core's main entry needs no schema library.
 */
import type { SecretBackend } from "./backend.js";

/** One validation problem: where in the options, and what to fix. Never echoes the value. */
export interface OptionsIssue {
  readonly path: ReadonlyArray<PropertyKey>;
  readonly message: string;
}

/** The part of a zod schema the loader uses. */
export interface OptionsSchema<O> {
  safeParse(
    input: unknown,
  ): { success: true; data: O } | { success: false; error: { issues: readonly OptionsIssue[] } };
}

/** What the loader tells a backend besides its options. */
export interface BackendContext {
  /** The backend's name in `keyway.yaml`. */
  readonly name: string;
  /** The environment the config was loaded with (the env backend reads its variables here). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * The folder the config file is in (`LoadOptions.baseDir`): a relative path in the options
   * (a folder, a key file) means relative to it. Undefined when the config came from no file.
   */
  readonly baseDir?: string | undefined;
}

/**
 * The environment variables a backend (or its SDK) reads credentials from by default: names, or
 * `PREFIX*` patterns. `keyway run` keeps all of them from the child's environment, and masks the
 * values of the `secret` ones in the child's output.
 */
export interface CredentialVariables {
  /** Variables whose values are credentials (keys, tokens, passwords, secrets). */
  readonly secret: readonly string[];
  /**
   * Variables that say where credentials are or which identity to use (a profile, a key file, a
   * token file, a role, a client id, an endpoint that hands out tokens); their values are not
   * secret, so they are not masked.
   */
  readonly locator: readonly string[];
}

/** What each backend package exports as `definition` from its `./definition` entry. */
export interface BackendDefinition<O = unknown> {
  /** The `type:` in `keyway.yaml`, e.g. `aws`. */
  readonly type: string;
  readonly optionsSchema: OptionsSchema<O>;
  /** Creates the backend from validated options. Must not connect yet (connect lazily). */
  create(options: O, context: BackendContext): SecretBackend;
  /**
   * The credential variables a backend with these options reads (with `{}`: its defaults).
   * @default none
   */
  credentialVariables?(options: Partial<O>): CredentialVariables;
}
