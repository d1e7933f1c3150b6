/**
 * Secret Manager (gRPC status) errors → Keyway errors. A denial or an outage never reads as
 * not-found; every cause is sanitized (gax errors carry request metadata and headers).
 */
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  isNetworkErrorCode,
  isSecretsError,
  networkDetail,
  SanitizedCause,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretsError,
  scrubMessage,
} from "@keyway/core/backend";

/** gRPC status codes (google.rpc.Code), by name. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const STATUS_NAMES = new Map<number, string>(Object.entries(GrpcStatus).map(([n, c]) => [c, n]));

/** What the failed call was doing; the same status means different things per operation. */
export type GcpOperation = "access" | "read-metadata" | "list" | "write-value" | "write-metadata" | "delete";

export interface MapContext {
  /** The backend's name, for `SecretsError.backend`. */
  readonly backend: string;
  /** The key of the ref concerned (for not-found), if any. */
  readonly key?: string | undefined;
  readonly operation: GcpOperation;
  /** Strings to scrub from the cause: the private key and anything else sensitive. */
  readonly secrets?: readonly string[];
  /** The caller's signal: an error after it aborted is an abort, whatever gRPC says. */
  readonly signal?: AbortSignal | undefined;
}

/** The gRPC status of an SDK error, if it has one. */
export function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" && STATUS_NAMES.has(code) ? code : undefined;
}

/** A copy of `error` holding only its name, gRPC status name (or errno) and a scrubbed message. */
export function sanitizeGcpCause(error: unknown, secrets: readonly string[] = []): Error {
  if (isSecretsError(error) || error instanceof SanitizedCause) return error;
  const code = grpcCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : "Error";
  const errno = (error as { code?: unknown } | null)?.code;
  const codeName =
    code !== undefined ? STATUS_NAMES.get(code) : typeof errno === "string" ? errno : undefined;
  return new SanitizedCause(name, scrubMessage(message, secrets), codeName);
}

// google-auth-library errors have no gRPC status: they are about credentials or reaching Google.
const AUTH_MESSAGE =
  /could not load the default credentials|invalid_grant|invalid_client|unauthorized_client|invalid_rapt|no access, refresh token|private key|client_email|credentials/i;

/**
 * Maps anything the SDK throws to a Keyway error.
 *
 * | gRPC status | Keyway error |
 * |---|---|
 * | NOT_FOUND (5) | SecretNotFoundError; ConfigurationError when no secret is concerned (a missing project) |
 * | PERMISSION_DENIED (7), UNAUTHENTICATED (16) | AccessDeniedError |
 * | FAILED_PRECONDITION (9) reading a value | SecretDisabledError (disabled or destroyed version) |
 * | UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8), INTERNAL (13), CANCELLED (1), UNKNOWN (2), ABORTED (10), DATA_LOSS (15) | BackendUnavailableError |
 * | INVALID_ARGUMENT (3) writing a value | InvalidSecretValueError; elsewhere ConfigurationError |
 */
/** `: ECONNREFUSED 127.0.0.1:8085` when gRPC's error says why the channel could not connect. */
function reached(error: unknown): string {
  const detail = networkDetail(error);
  return detail ? `: ${detail}` : "";
}

export function mapGcpError(error: unknown, context: MapContext): SecretsError {
  if (isSecretsError(error)) return error;
  const { backend, key, operation } = context;
  const cause = sanitizeGcpCause(error, context.secrets);
  const options = { backend, cause };
  if (context.signal?.aborted) {
    return new BackendUnavailableError("The request to Google Secret Manager was aborted.", options);
  }
  const code = grpcCode(error);
  const status = code === undefined ? "" : ` (${STATUS_NAMES.get(code)})`;
  switch (code) {
    case GrpcStatus.NOT_FOUND:
      if (key !== undefined) return new SecretNotFoundError(key, options);
      return new ConfigurationError(
        `Google Secret Manager found no such resource${status}; check the project.`,
        options,
      );
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.UNAUTHENTICATED:
      return new AccessDeniedError(`Google Secret Manager refused the request${status}.`, options);
    case GrpcStatus.FAILED_PRECONDITION:
      if (operation === "access") {
        const state = /destroyed/i.test(cause.message) ? "destroyed" : "disabled";
        return new SecretDisabledError(
          `Secret '${key}' exists but its version is ${state}${status}.`,
          options,
        );
      }
      return new ConfigurationError(
        `Google Secret Manager refused the request: precondition failed${status}.`,
        options,
      );
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
      if (operation === "write-value") {
        return new InvalidSecretValueError(
          `Google Secret Manager rejected the value of '${key}'${status}.`,
          options,
        );
      }
      return new ConfigurationError(
        `Google Secret Manager rejected the request as invalid${status}.`,
        options,
      );
    case GrpcStatus.UNIMPLEMENTED:
      return new ConfigurationError(
        `The endpoint does not implement this Secret Manager call${status}.`,
        options,
      );
    case GrpcStatus.ALREADY_EXISTS:
    case GrpcStatus.CANCELLED:
    case GrpcStatus.UNKNOWN:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.ABORTED:
    case GrpcStatus.INTERNAL:
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DATA_LOSS:
      return new BackendUnavailableError(
        `Google Secret Manager (backend '${backend}') is unavailable${status}${reached(error)}.`,
        options,
      );
  }
  const errno = (error as { code?: unknown } | null)?.code;
  if (isNetworkErrorCode(errno)) {
    return new BackendUnavailableError(
      `Cannot reach Google Secret Manager (backend '${backend}'): ${networkDetail(error) ?? errno}.`,
      options,
    );
  }
  if (error instanceof Error && AUTH_MESSAGE.test(error.message)) {
    return new AccessDeniedError("Google authentication failed: check the credentials (or ADC).", options);
  }
  // Unknown failures are treated as an outage: retryable, and never a miss.
  return new BackendUnavailableError("Google Secret Manager request failed.", options);
}
