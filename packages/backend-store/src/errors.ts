/**
 * Database errors → Keyway errors. Each engine maps its driver's errors where it runs a
 * statement (engine-postgres.ts: `postgresError`, engine-sqlite.ts: `sqliteError`), since the
 * admin commands use the engines without the kit; this maps what is left (and the engines' own).
 * An outage is unavailable, never not-found.
 */
import {
  BackendUnavailableError,
  ConflictError,
  InvalidSecretValueError,
  type SecretsError,
  sanitizeCause,
} from "@keyway/core/backend";
import { postgresError } from "./engine-postgres.js";
import { sqliteError } from "./engine-sqlite.js";

/** Maps an error of `engine` (already-Keyway errors pass through the kit before this). */
export function mapStoreError(
  error: unknown,
  engine: "postgres" | "sqlite",
  backend: string,
  signal?: AbortSignal,
): SecretsError {
  if (signal?.aborted)
    return new BackendUnavailableError("The store request was aborted.", {
      backend,
      cause: sanitizeCause(error),
    });
  return engine === "postgres" ? postgresError(error, backend) : sqliteError(error, backend);
}

/** A compare-and-set write that found another version. */
export function conflictError(key: string, backend: string): ConflictError {
  return new ConflictError(`Secret '${key}' is not at the version the write expected; nothing was changed.`, {
    backend,
  });
}

/** A version whose row was altered, or copied from another name or store. */
export function undecryptable(key: string, version: number, backend: string): InvalidSecretValueError {
  return new InvalidSecretValueError(
    `Secret '${key}' version ${version} cannot be decrypted: its row was altered or copied from another name or store.`,
    { backend },
  );
}
