/** Errors as HTTP statuses: one mapping for every face, by error class, with Keyway's message. */
import { isSecretsError, type SecretsError } from "@keyway/core";

/** A request refused before (or instead of) reaching the router; its message is safe to send. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** A stable machine-readable code, e.g. `BODY_TOO_LARGE`. */
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, Allow). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** The HTTP status of a Keyway error: not found 404, denied and read-only 403, conflict 409, invalid 422, unavailable 503. */
export function statusOf(error: SecretsError): number {
  switch (error.code) {
    case "NOT_FOUND":
    case "SUBKEY_NOT_FOUND":
    case "DISABLED":
      return 404;
    case "ACCESS_DENIED":
    case "READ_ONLY":
      return 403;
    case "CONFLICT":
      return 409;
    case "UNAVAILABLE":
      return 503;
    default:
      // INVALID_REFERENCE, INVALID_VALUE, INVALID_TEMPLATE, CONFIGURATION (no rule serves it).
      return 422;
  }
}

/** What a face answers for a failure: its status, code and a message that never holds a value. */
export interface Failure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * Any thrown thing as a failure. Keyway's errors keep their message (they never hold a value);
 * anything else is a 500 with a fixed message, since a foreign error's text is not known to be safe.
 */
export function failureOf(error: unknown): Failure {
  if (error instanceof HttpError)
    return { status: error.status, code: error.code, message: error.message, headers: error.headers };
  if (isSecretsError(error))
    return { status: statusOf(error), code: error.code, message: error.message, headers: {} };
  return { status: 500, code: "INTERNAL", message: "The server failed to handle the request.", headers: {} };
}
