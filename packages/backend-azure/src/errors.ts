/**
 * Azure SDK errors → Keyway errors. The SDK throws `RestError` (with `statusCode`, `code`, and
 * Key Vault's `details.error.innerError.code`), `AbortError` for aborts and its own timeouts, and
 * `@azure/identity` errors when no token can be had. None of them is ever read as not-found
 * unless Key Vault said 404.
 */
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  InvalidSecretValueError,
  isSecretsError,
  networkDetail,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretsError,
  sanitizeCause,
} from "@keyway/core/backend";

/** What was being done, which decides how a 400 or a 404 reads. */
export type Operation = "get" | "put" | "delete" | "list";

export interface ErrorContext {
  readonly backend: string;
  readonly operation: Operation;
  /** The key asked for (never a value). */
  readonly key?: string | undefined;
  /** Strings to scrub from the cause: client secrets, the value being written. */
  readonly secrets?: readonly string[] | undefined;
}

interface AzureLikeError {
  name?: unknown;
  code?: unknown;
  statusCode?: unknown;
  message?: unknown;
  details?: { error?: { code?: unknown; innerError?: { code?: unknown } } };
}

/** TLS verification failures: deterministic, so a configuration problem, not an outage. */
const TLS_CODES =
  /^(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|ERR_TLS_CERT_ALTNAME_INVALID|CERT_[A-Z_]+)$/;

/** The status code of an SDK error, if it carries one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as AzureLikeError | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Key Vault's inner error code (e.g. `SecretDisabled`), or its outer one. */
export function innerCodeOf(error: unknown): string | undefined {
  const details = (error as AzureLikeError | undefined)?.details?.error;
  const inner = details?.innerError?.code;
  if (typeof inner === "string") return inner;
  return typeof details?.code === "string" ? details.code : undefined;
}

/**
 * A disabled secret. Azure answers 403 with inner code `SecretDisabled`; Lowkey Vault answers 404
 * "Operation get is not allowed on a disabled entity." (a miss would say "not found"). Both are
 * SecretDisabledError, never access denied or not found.
 */
function isDisabled(error: unknown, status: number | undefined): boolean {
  const raw = (error as AzureLikeError | undefined)?.message;
  const message = typeof raw === "string" ? raw : "";
  if (status === 403) {
    return (
      /disabled|expired/i.test(innerCodeOf(error) ?? "") ||
      /not allowed on an? (disabled|expired)/i.test(message)
    );
  }
  return status === 404 && /not allowed on an? disabled/i.test(message);
}

/** True for Key Vault's "this name is soft-deleted" conflict on a write. */
export function isDeletedConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/** Maps anything the Azure SDK throws to a Keyway error. Keyway errors pass through. */
export function mapAzureError(error: unknown, context: ErrorContext): SecretsError {
  if (isSecretsError(error)) return error;
  const { backend, operation, key } = context;
  const options = { backend, cause: sanitizeCause(error, context.secrets ?? []) };
  const e = (error ?? {}) as AzureLikeError;
  const name = typeof e.name === "string" ? e.name : "";
  const code = typeof e.code === "string" ? e.code : "";
  const status = statusOf(error);
  const what =
    key === undefined ? `Azure Key Vault ${operation}` : `Azure Key Vault ${operation} of '${key}'`;

  if (name === "AbortError") {
    return new BackendUnavailableError(`${what} was aborted or timed out.`, options);
  }
  if (name === "CredentialUnavailableError" || name === "AggregateAuthenticationError") {
    return new AccessDeniedError(`${what} failed: no Azure credential could get a token.`, options);
  }
  if (name === "AuthenticationError" || name === "AuthenticationRequiredError") {
    return status !== undefined && (status >= 500 || status === 429)
      ? new BackendUnavailableError(
          `${what} failed: the Azure token service is unavailable (${status}).`,
          options,
        )
      : new AccessDeniedError(`${what} failed: Azure authentication was refused.`, options);
  }
  if (status === undefined) {
    if (TLS_CODES.test(code)) {
      return new ConfigurationError(
        `${what} failed: the vault's TLS certificate is not trusted (${code}). For a private CA or an ` +
          `emulator, pass its certificate with the 'ca' option.`,
        options,
      );
    }
    // RestError without a status: ECONNREFUSED, ECONNRESET, ENOTFOUND, REQUEST_SEND_ERROR...
    return new BackendUnavailableError(
      `${what} failed (backend '${backend}'): ${networkDetail(error) ?? (code || name || "network error")}.`,
      options,
    );
  }
  if (isDisabled(error, status)) {
    return new SecretDisabledError(`Secret '${key ?? "?"}' is disabled in Azure Key Vault.`, options);
  }
  if (status === 404 && (operation === "get" || operation === "delete") && key !== undefined) {
    return new SecretNotFoundError(key, options);
  }
  if (status === 401 || status === 403) {
    return new AccessDeniedError(`${what} was refused (${status}${code ? ` ${code}` : ""}).`, options);
  }
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    // 409 outside the handled soft-delete case is a transient state (ObjectIsBeingDeleted...).
    return new BackendUnavailableError(
      `${what} failed: Key Vault answered ${status}${code ? ` ${code}` : ""}.`,
      options,
    );
  }
  if (status === 400 && operation === "put") {
    return new InvalidSecretValueError(
      `${what} was rejected by Key Vault (400${code ? ` ${code}` : ""}).`,
      options,
    );
  }
  if (status === 400 && operation === "get") {
    // e.g. a malformed version id: the reference is wrong, not the vault.
    return new InvalidReferenceError(
      `${what} was rejected by Key Vault (400${code ? ` ${code}` : ""}).`,
      options,
    );
  }
  return new BackendUnavailableError(
    `${what} failed: Key Vault answered ${status}${code ? ` ${code}` : ""}.`,
    options,
  );
}
