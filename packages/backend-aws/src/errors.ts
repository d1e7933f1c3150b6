/**
 * AWS SDK errors → Keyway errors. A miss is only ever `ResourceNotFoundException` (or a secret
 * scheduled for deletion); a denial, a throttle or an outage never reads as not found.
 */
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  isNetworkErrorCode,
  isSecretsError,
  networkDetail,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretsError,
  safeIdentifier,
  sanitizeCause,
} from "@keyway/core/backend";

/** What the mapping needs to know about the call that failed. */
export interface ErrorContext {
  /** The backend's name, for every error. */
  readonly backend: string;
  /** The key asked for; without it there is no "not found", only a refused request. */
  readonly key?: string | undefined;
  /** True for put/delete: a refused request is then a bad value, not a bad configuration. */
  readonly write?: boolean | undefined;
  /** Strings to scrub from the cause: the credentials in use, the value being written. */
  readonly secrets: readonly string[];
}

const AUTH = new Set([
  "AccessDeniedException",
  "AccessDenied",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "SignatureDoesNotMatch",
  "IncompleteSignature",
  "InvalidClientTokenId",
  "InvalidAccessKeyId",
  "MissingAuthenticationToken",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "ExpiredToken",
  "RequestExpired",
  "NotAuthorized",
  "AuthFailure",
  "CredentialsProviderError",
  "TokenProviderError",
]);
const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "PriorRequestNotComplete",
]);
const SERVER = new Set([
  "InternalServiceError",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
]);
/** Timeouts (our requestTimeoutMs), aborts (the caller's signal) and socket failures. */
const NETWORK_NAMES = new Set(["TimeoutError", "AbortError", "RequestTimeout", "RequestTimeoutException"]);

/** The KMS key behind a secret refused to encrypt or decrypt. */
const KMS = new Set(["DecryptionFailure", "EncryptionFailure"]);

/** AWS's words for a secret in its recovery window: "marked for deletion", "scheduled for deletion" (moto: "marked deleted"). */
const PENDING_DELETION = /marked (for )?delet|scheduled for deletion/i;

interface AwsErrorShape {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  $fault?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function errorName(error: unknown): string {
  const name = (error as AwsErrorShape | null)?.name;
  return typeof name === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(name) ? name : "Error";
}

/** True when AWS refused because the secret is scheduled for deletion (reads as not found). */
export function isPendingDeletion(error: unknown): boolean {
  const { message } = (error ?? {}) as AwsErrorShape;
  return (
    errorName(error) === "InvalidRequestException" &&
    typeof message === "string" &&
    PENDING_DELETION.test(message)
  );
}

export function isAwsError(error: unknown, name: string): boolean {
  return errorName(error) === name;
}

/** Maps anything the SDK (or the credential providers) threw to a typed Keyway error. */
export function mapAwsError(error: unknown, context: ErrorContext): SecretsError {
  if (isSecretsError(error)) return error;
  const { backend, key } = context;
  const options = { backend, cause: sanitizeCause(error, context.secrets) };
  const shape = (error ?? {}) as AwsErrorShape;
  const name = errorName(error);
  const shown = safeIdentifier(name, context.secrets) ?? "Error";
  const status =
    typeof shape.$metadata?.httpStatusCode === "number" ? shape.$metadata.httpStatusCode : undefined;
  const code = typeof shape.code === "string" ? shape.code : undefined;
  const message = typeof shape.message === "string" ? shape.message : "";
  const subject = key === undefined ? "" : ` for secret '${key}'`;

  if (key !== undefined && (name === "ResourceNotFoundException" || isPendingDeletion(error))) {
    return new SecretNotFoundError(key, options);
  }
  if (KMS.has(name)) {
    return /disabled|pending deletion/i.test(message)
      ? new SecretDisabledError(
          `The KMS key of the secret${subject} is disabled or pending deletion (${shown}).`,
          options,
        )
      : new AccessDeniedError(
          `AWS Secrets Manager could not use the KMS key${subject} (${shown}): check the KMS key policy.`,
          options,
        );
  }
  // The default chain found no credentials at all: nothing was sent, so nothing was denied; the
  // fix is on this machine (exit 3, not 4).
  if (name === "CredentialsProviderError" && /could not load credentials from any providers/i.test(message)) {
    return new ConfigurationError(
      `AWS backend '${backend}' found no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or give the backend's 'credentials' option.`,
      options,
    );
  }
  if (AUTH.has(name) || status === 401 || status === 403) {
    return new AccessDeniedError(
      `AWS Secrets Manager denied the request${subject} (${shown}): check the credentials and the IAM policy.`,
      options,
    );
  }
  if (
    THROTTLED.has(name) ||
    SERVER.has(name) ||
    NETWORK_NAMES.has(name) ||
    isNetworkErrorCode(code) ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    shape.$fault === "server" ||
    shape.$retryable !== undefined
  ) {
    return new BackendUnavailableError(
      `AWS Secrets Manager (backend '${backend}') did not answer${subject} (${networkDetail(error) ?? shown}).`,
      options,
    );
  }
  if (/region is missing/i.test(message)) {
    return new ConfigurationError(
      "AWS region is not set: give the 'region' option or set AWS_REGION.",
      options,
    );
  }
  if (status !== undefined && status >= 400) {
    return context.write
      ? new InvalidSecretValueError(
          `AWS Secrets Manager refused to write the secret${subject} (${shown}).`,
          options,
        )
      : new ConfigurationError(
          `AWS Secrets Manager rejected the request${subject} (${shown}): check the backend options.`,
          options,
        );
  }
  // No HTTP answer and nothing we recognize: treat as an outage, never as a miss.
  return new BackendUnavailableError(`AWS Secrets Manager call failed${subject} (${shown}).`, options);
}

/** One `Errors[]` entry of `BatchGetSecretValue`, as the error a single get would have thrown. */
export function batchEntryError(
  entry: { ErrorCode?: string | undefined; Message?: string | undefined },
  context: ErrorContext,
): SecretsError {
  const error = Object.assign(new Error(entry.Message ?? ""), { name: entry.ErrorCode ?? "Error" });
  // A per-secret entry is AWS's answer, not a transport failure: give it a 4xx status so an
  // unknown code reads as a refused request rather than an outage.
  const status =
    entry.ErrorCode && (THROTTLED.has(entry.ErrorCode) || SERVER.has(entry.ErrorCode)) ? 503 : 400;
  return mapAwsError(Object.assign(error, { $metadata: { httpStatusCode: status } }), context);
}
