/**
 * The error family. Every error has a fixed `name`, a stable `code`, the backend that raised it
 * and a sanitized `cause`; none ever carries a secret value or a credential.
 */

/** Stable machine-readable codes, one per kind of failure. */
export type SecretsErrorCode =
  | "NOT_FOUND"
  | "SUBKEY_NOT_FOUND"
  | "DISABLED"
  | "INVALID_REFERENCE"
  | "INVALID_VALUE"
  | "INVALID_TEMPLATE"
  | "CONFIGURATION"
  | "ACCESS_DENIED"
  | "READ_ONLY"
  | "CONFLICT"
  | "UNAVAILABLE";

/** Options every Keyway error takes. */
export interface SecretsErrorOptions {
  /** The name of the backend that failed, when one did. */
  backend?: string | undefined;
  /** The underlying error; it is sanitized (see {@link sanitizeCause}) before it is kept. */
  cause?: unknown;
}

/** Base of every error Keyway throws. */
export abstract class SecretsError extends Error {
  abstract readonly code: SecretsErrorCode;
  /** The backend that failed, if any. */
  readonly backend: string | undefined;

  constructor(message: string, options: SecretsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: sanitizeCause(options.cause) });
    this.backend = options.backend;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, backend: this.backend };
  }
}

/** The secret does not exist (message word for word as Kestra's). */
export class SecretNotFoundError extends SecretsError {
  override readonly name: string = "SecretNotFoundError";
  readonly code = "NOT_FOUND";
  /**
   * Where a router looked, nearest namespace first, each with the backend that serves it (set by
   * the router; a backend's own not-found has none). The message stays Kestra's, word for word;
   * the CLI adds this to it.
   */
  readonly searched: ReadonlyArray<SearchedLevel> | undefined;
  constructor(
    readonly key: string,
    options?: SecretsErrorOptions & { searched?: ReadonlyArray<SearchedLevel> | undefined },
  ) {
    super(`Cannot find secret for key '${key}'.`, options);
    this.searched = options?.searched;
  }
}

/** One namespace a resolve looked in, and the backend that serves it. */
export interface SearchedLevel {
  readonly namespace: string;
  readonly backend: string;
}

/** The secret exists but has no such top-level JSON key (Kestra's message). */
export class SubkeyNotFoundError extends SecretsError {
  override readonly name: string = "SubkeyNotFoundError";
  readonly code = "SUBKEY_NOT_FOUND";
  constructor(
    readonly key: string,
    readonly subkey: string,
    options?: SecretsErrorOptions,
  ) {
    super(`Cannot find secret sub-key '${subkey}' in secret '${key}'.`, options);
  }
}

/** The secret exists but may not be read now (disabled, expired, not yet valid). */
export class SecretDisabledError extends SecretsError {
  override readonly name: string = "SecretDisabledError";
  readonly code = "DISABLED";
}

/** A reference (key, namespace, tenant) outside the grammar; raised before any backend call. */
export class InvalidReferenceError extends SecretsError {
  override readonly name: string = "InvalidReferenceError";
  readonly code = "INVALID_REFERENCE";
}

/** A stored value that cannot be used: bad encoding, not JSON for a sub-key, too large. */
export class InvalidSecretValueError extends SecretsError {
  override readonly name: string = "InvalidSecretValueError";
  readonly code = "INVALID_VALUE";
}

/** A template that cannot be parsed; the message gives line and column. */
export class TemplateError extends SecretsError {
  override readonly name: string = "TemplateError";
  readonly code = "INVALID_TEMPLATE";
}

/** Configuration that cannot work (options, config file, ambiguous variables). */
export class ConfigurationError extends SecretsError {
  override readonly name: string = "ConfigurationError";
  readonly code = "CONFIGURATION";
}

/** The backend refused: bad credentials or missing permission. Never read as not-found. */
export class AccessDeniedError extends SecretsError {
  override readonly name: string = "AccessDeniedError";
  readonly code = "ACCESS_DENIED";
}

/** A write to a read-only rule or backend. */
export class ReadOnlyError extends SecretsError {
  override readonly name: string = "ReadOnlyError";
  readonly code = "READ_ONLY";
}

/**
 * A compare-and-set write (`ifVersion`) found another version than the one it was given: someone
 * wrote in between. Nothing was written; read again and retry.
 */
export class ConflictError extends SecretsError {
  override readonly name: string = "ConflictError";
  readonly code = "CONFLICT";
}

/** The backend could not answer: network, timeout, 5xx, throttling. Never read as not-found. */
export class BackendUnavailableError extends SecretsError {
  override readonly name: string = "BackendUnavailableError";
  readonly code = "UNAVAILABLE";
}

/** Every backend for a ref failed (primary and replicas); `failures` gives each reason. */
export class AllBackendsFailedError extends BackendUnavailableError {
  override readonly name: string = "AllBackendsFailedError";
  constructor(
    key: string,
    readonly failures: ReadonlyArray<{ backend: string; error: SecretsError }>,
  ) {
    const reasons = failures.map((f) => `${f.backend}: ${f.error.message}`).join("; ");
    super(`All backends failed for secret '${key}': ${reasons}`);
  }
}

/** Several secrets failed at once (e.g. a template); `errors` holds each, in order. */
export class MultipleSecretsError extends SecretsError {
  override readonly name: string = "MultipleSecretsError";
  readonly code: SecretsErrorCode;
  constructor(readonly errors: readonly SecretsError[]) {
    const missing = errors.filter((e) => e.code === "NOT_FOUND");
    const head =
      missing.length === errors.length
        ? `Cannot find ${errors.length} secrets: ${missing.map((e) => `'${(e as SecretNotFoundError).key}'`).join(", ")}.`
        : `${errors.length} secrets failed:`;
    super(missing.length === errors.length ? head : `${head} ${distinctReasons(errors)}`);
    this.code = worstError(errors)?.code ?? "NOT_FOUND";
  }
}

/** Each distinct message once, with how many references share it (one missing rule fails them all). */
function distinctReasons(errors: readonly SecretsError[]): string {
  const counts = new Map<string, number>();
  for (const error of errors) counts.set(error.message, (counts.get(error.message) ?? 0) + 1);
  return [...counts].map(([message, n]) => (n > 1 ? `${message} (${n} references)` : message)).join(" ");
}

/**
 * How bad each kind of failure is, for the one code a {@link MultipleSecretsError} reports:
 * unavailable over denied over invalid over not found (what a caller must fix first: an outage
 * hides everything behind it). The CLI maps codes to exit codes in the same order.
 */
const SEVERITY: Record<SecretsErrorCode, number> = {
  NOT_FOUND: 2,
  SUBKEY_NOT_FOUND: 2,
  DISABLED: 2,
  INVALID_REFERENCE: 3,
  INVALID_VALUE: 3,
  INVALID_TEMPLATE: 3,
  CONFIGURATION: 3,
  ACCESS_DENIED: 4,
  READ_ONLY: 4,
  CONFLICT: 4,
  UNAVAILABLE: 5,
};

/** The most severe of `errors` (the first of equals), or undefined for none. Internal to core. */
export function worstError<E extends SecretsError>(errors: readonly E[]): E | undefined {
  let worst: E | undefined;
  for (const error of errors) if (!worst || SEVERITY[error.code] > SEVERITY[worst.code]) worst = error;
  return worst;
}

/** Whether `error` is one of Keyway's errors. */
export function isSecretsError(error: unknown): error is SecretsError {
  return error instanceof SecretsError;
}

/**
 * A copy of a foreign error that keeps only what helps diagnose it: its name, a short message,
 * and numeric status or string code. SDK errors carry request options, headers and bodies
 * (node-vault #50, #124); none of that survives.
 */
export class SanitizedCause extends Error {
  override readonly name: string;
  readonly code: string | undefined;
  readonly status: number | undefined;
  constructor(name: string, message: string, code?: string, status?: number) {
    super(message);
    this.name = name;
    this.code = code;
    this.status = status;
    // The original stack points into the SDK and repeats its message; this one says enough.
    this.stack = `${name}: ${message}`;
  }
}

const MAX_CAUSE_MESSAGE = 300;
/** Credential-looking fragments that SDKs echo into messages. */
const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, "$1 ******"],
  [
    /(authorization|x-vault-token|x-amz-security-token|api[-_]?key|token|secret|password|signature|credential)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi,
    "$1$2******",
  ],
  [/\b(hvs|hvb|s|b)\.[A-Za-z0-9_-]{20,}/g, "******"],
  [/\b(AKIA|ASIA)[A-Z0-9]{12,}/g, "******"],
];

/** Removes credential-looking fragments and any of `secrets` from a message. */
export function scrubMessage(message: string, secrets: readonly string[] = []): string {
  let text = message;
  for (const secret of secrets) if (secret.length > 0) text = text.split(secret).join("******");
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) text = text.replace(pattern, replacement);
  return text.length > MAX_CAUSE_MESSAGE ? `${text.slice(0, MAX_CAUSE_MESSAGE)}…` : text;
}

/**
 * Turns anything thrown by an SDK into a {@link SanitizedCause}. Keyway errors pass through, since
 * they are sanitized by construction. `secrets` are strings the caller knows are sensitive
 * (the token it used, the value it sent) and removes wherever they appear.
 */
export function sanitizeCause(error: unknown, secrets: readonly string[] = []): Error {
  if (error instanceof SecretsError || error instanceof SanitizedCause) return error;
  if (!(error instanceof Error)) return new SanitizedCause("Error", scrubMessage(String(error), secrets));
  const record = error as unknown as Record<string, unknown>;
  const meta = (record.$metadata ?? {}) as Record<string, unknown>;
  const status = [
    record.status,
    record.statusCode,
    meta.httpStatusCode,
    (record.response as { statusCode?: unknown })?.statusCode,
  ].find((s): s is number => typeof s === "number");
  const code = [record.code, record.Code].find((c): c is string => typeof c === "string");
  return new SanitizedCause(
    safeIdentifier(error.name, secrets) ?? "Error",
    scrubMessage(error.message, secrets),
    safeIdentifier(code, secrets),
    status,
  );
}

/**
 * A name or code fit to print: a short identifier-like word holding none of `secrets`, else
 * undefined (SDKs have put credentials in error names and codes too).
 */
export function safeIdentifier(
  text: string | undefined,
  secrets: readonly string[] = [],
): string | undefined {
  if (text === undefined || !/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/.test(text)) return undefined;
  return secrets.some((s) => s.length > 0 && text.includes(s)) ? undefined : text;
}

/**
 * Socket-level failure codes (Node, undici, axios, gRPC transports): the request got no answer,
 * so the backend is unavailable, never "not found". Shared by every backend's error mapping.
 */
const NETWORK_ERROR_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "ABORT_ERR",
  "ERR_CANCELED",
  "ERR_NETWORK",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
]);

export function isNetworkErrorCode(code: unknown): boolean {
  return typeof code === "string" && NETWORK_ERROR_CODES.has(code);
}

/** Node's wording of a socket failure: "connect ECONNREFUSED 127.0.0.1:8200", "getaddrinfo ENOTFOUND vault.internal". */
const NETWORK_IN_MESSAGE =
  /\b([A-Z][A-Z_]{3,})\s+(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(?::(\d{1,5}))?/g;

/**
 * The OS-level reason a request got no answer, as `ECONNREFUSED 127.0.0.1:8200` or
 * `ENOTFOUND vault.internal`: found on the error itself, its `cause` chain, an AggregateError's
 * parts (Node tries each address of a host in turn) or in their messages (gRPC and SDKs wrap it
 * in text). Only a known network code and the address it names are kept, so nothing else an SDK
 * put in its error (headers, tokens) can come along.
 */
export function networkDetail(error: unknown): string | undefined {
  const queue: unknown[] = [error];
  const seen = new Set<unknown>();
  for (let i = 0; i < queue.length && i < 16; i++) {
    const item = queue[i];
    if (typeof item !== "object" || item === null || seen.has(item)) continue;
    seen.add(item);
    const record = item as Record<string, unknown>;
    const host = typeof record.address === "string" ? record.address : record.hostname;
    if (
      isNetworkErrorCode(record.code) &&
      typeof host === "string" &&
      /^[A-Za-z0-9.:[\]-]{1,255}$/.test(host)
    ) {
      const port = typeof record.port === "number" ? `:${record.port}` : "";
      return `${record.code} ${host.includes(":") && !host.startsWith("[") && port ? `[${host}]` : host}${port}`;
    }
    for (const text of [record.message, record.details]) {
      if (typeof text !== "string") continue;
      for (const match of text.matchAll(NETWORK_IN_MESSAGE)) {
        if (isNetworkErrorCode(match[1])) return `${match[1]} ${match[2]}${match[3] ? `:${match[3]}` : ""}`;
      }
    }
    queue.push(record.cause, ...(Array.isArray(record.errors) ? record.errors : []));
  }
  return undefined;
}
