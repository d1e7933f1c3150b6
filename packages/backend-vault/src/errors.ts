/**
 * Vault error → Keyway error. node-vault rejects with an `ApiResponseError` (`response:
 * { statusCode, body }`), a transport error (ours, or axios's for an injected client, whose
 * `config.headers` hold the token: node-vault #50, #124) or a tv4 validation error. Only the
 * status, Vault's error strings (scrubbed of every credential we know) and the path survive.
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
  type SecretsErrorOptions,
  sanitizeCause,
  scrubMessage,
} from "@keyway/core/backend";

/** What the failing call was, for the message. */
export interface ErrorContext {
  readonly backend: string;
  readonly operation: "read" | "write" | "list" | "delete" | "login";
  /** The key asked for (not-found messages name it). */
  readonly key?: string | undefined;
  /** The Vault API path called (no credentials in it). */
  readonly path?: string | undefined;
  /** The auth method, for login failures. */
  readonly method?: string | undefined;
  /** Credentials to scrub wherever they appear. */
  readonly secrets: readonly string[];
}

/** A check-and-set write lost: the secret's version is not the one given. */
export class CheckAndSetConflictError extends InvalidSecretValueError {
  override readonly name = "CheckAndSetConflictError";
}

/** The HTTP status of a node-vault API error, if it is one. */
export function vaultStatus(error: unknown): number | undefined {
  const status = (error as { response?: { statusCode?: unknown } } | null)?.response?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Vault's `errors` strings, scrubbed, joined; `""` when none. */
function vaultMessages(error: unknown, secrets: readonly string[]): string {
  const body = (error as { response?: { body?: { errors?: unknown } } })?.response?.body;
  const errors = Array.isArray(body?.errors)
    ? body.errors.filter((e): e is string => typeof e === "string")
    : [];
  return errors.length ? scrubMessage(errors.join("; "), secrets) : "";
}

/** A 404 that says the mount is KV v2 while Keyway spoke KV v1 to it (`kvVersion: 1` on a v2 mount). */
function versionedMountWarning(error: unknown): boolean {
  const warnings = (error as { response?: { body?: { warnings?: unknown } } })?.response?.body?.warnings;
  return Array.isArray(warnings) && warnings.some((w) => typeof w === "string" && /versioned K\/V/i.test(w));
}

/** A 404 naming no error and no mount problem: an empty folder or a missing secret. */
export function isPlain404(error: unknown): boolean {
  const errors = (error as { response?: { body?: { errors?: unknown } } })?.response?.body?.errors;
  const none = !Array.isArray(errors) || errors.length === 0;
  return vaultStatus(error) === 404 && none && !versionedMountWarning(error);
}

/** True when a KV v2 404 is for a version that exists but is deleted or destroyed. */
function deletedVersion(error: unknown): number | undefined {
  const meta = (error as { response?: { body?: { data?: { metadata?: Record<string, unknown> } } } })
    ?.response?.body?.data?.metadata;
  if (!meta || (!meta.destroyed && !meta.deletion_time)) return undefined;
  return typeof meta.version === "number" ? meta.version : 0;
}

/** Maps anything node-vault (or our transport) threw to a Keyway error. Keyway errors pass through. */
export function mapVaultError(error: unknown, ctx: ErrorContext): SecretsError {
  if (isSecretsError(error)) return error;
  const options: SecretsErrorOptions = { backend: ctx.backend, cause: sanitizeCause(error, ctx.secrets) };
  const status = vaultStatus(error);
  const where = ctx.path ? ` '${ctx.path}'` : "";
  const said = vaultMessages(error, ctx.secrets);
  const detail = `${status ?? "no response"}${said ? `: ${said}` : ""}`;

  if (status === undefined) return withoutStatus(error, ctx, options);
  if (ctx.operation === "login" && (status === 400 || status === 401 || status === 403)) {
    return new AccessDeniedError(`Vault refused the ${ctx.method ?? ""} login (${detail}).`, options);
  }
  if (status === 404) {
    if (/no handler for route/i.test(said)) {
      return new ConfigurationError(
        `Vault has no secrets engine at${where} (${detail}): check 'mount'.`,
        options,
      );
    }
    if (versionedMountWarning(error)) {
      return new ConfigurationError(`The Vault mount of${where} is KV v2: set kvVersion to 2.`, options);
    }
    const version = deletedVersion(error);
    if (version !== undefined && ctx.key !== undefined) {
      return new SecretDisabledError(
        `Secret '${ctx.key}' exists in Vault but its version ${version} is deleted or destroyed; undelete it or write it again.`,
        options,
      );
    }
    if (ctx.key !== undefined) return new SecretNotFoundError(ctx.key, options);
    return new ConfigurationError(`Vault answered not found for${where} (${detail}).`, options);
  }
  if (status === 401 || status === 403) {
    return new AccessDeniedError(
      `Vault denied ${ctx.operation} access to${where} (${detail}): check the token (or the auth role) and that its policy grants '${ctx.operation}' on that path.`,
      options,
    );
  }
  if (status === 400 && /check-and-set parameter did not match/i.test(said)) {
    return new CheckAndSetConflictError(
      `Check-and-set failed for secret '${ctx.key ?? ""}': its current version is not the one given.`,
      options,
    );
  }
  if (status === 400 && /check-and-set parameter required/i.test(said)) {
    return new ConfigurationError(
      `The Vault mount requires check-and-set (cas_required) for${where}: write with putWithCas().`,
      options,
    );
  }
  if (status === 413 || (status === 400 && ctx.operation === "write")) {
    return new InvalidSecretValueError(
      `Vault refused the value of secret '${ctx.key ?? ""}' (${detail}).`,
      options,
    );
  }
  if (status === 412 || status === 429 || status >= 500 || (status >= 300 && status < 400)) {
    const hint =
      status === 503
        ? " (sealed, standby or in maintenance)"
        : status < 400
          ? " (a redirect: point 'endpoint' at the active node)"
          : "";
    return new BackendUnavailableError(`Vault is unavailable${hint} for${where} (${detail}).`, options);
  }
  return new ConfigurationError(
    `Vault refused the ${ctx.operation} request for${where} (${detail}).`,
    options,
  );
}

function withoutStatus(error: unknown, ctx: ErrorContext, options: SecretsErrorOptions): SecretsError {
  const record = (typeof error === "object" && error !== null ? error : {}) as Record<string, unknown>;
  const code = typeof record.code === "string" ? record.code : undefined;
  const name = typeof record.name === "string" ? record.name : "";
  const where = ctx.path ? ` for '${ctx.path}'` : "";
  if (isNetworkErrorCode(code) || name === "AbortError" || name === "TimeoutError") {
    return new BackendUnavailableError(
      `Vault (backend '${ctx.backend}') could not be reached${where} (${networkDetail(error) ?? code ?? name}).`,
      options,
    );
  }
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new ConfigurationError(
      `Vault's TLS certificate was not trusted (${code}): check 'endpoint' and 'caCert'.`,
      options,
    );
  }
  // tv4 (node-vault's request schema check) reports a bad argument with a numeric code.
  if (typeof record.code === "number" && "dataPath" in record) {
    return new ConfigurationError(
      `node-vault rejected the ${ctx.operation} request's arguments${where}.`,
      options,
    );
  }
  return new BackendUnavailableError(
    `The Vault ${ctx.operation} request failed${where} (${code ?? (name || "error")}).`,
    options,
  );
}
