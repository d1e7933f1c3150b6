/**
 * What a `${VAR}` expanded to never leaves the config loader in an error. Messages are built from
 * the expanded document (zod's, each backend schema's, the router's own), so rather than trusting
 * each of them, every error leaving the loader goes through here: each value becomes the
 * `${VAR}` that set it, and the redactor masks what is left of it in any encoding (zod quotes keys
 * as JSON strings), in the message and in the cause.
 */
import {
  ConfigurationError,
  createRedactor,
  type Redactor,
  SanitizedCause,
  SecretsError,
  safeIdentifier,
} from "../internal.js";

/** Below this a value is left alone: the redactor never masks it either (it would garble words). */
const MIN_LENGTH = 4;
/** From this length a value is replaced by its `${VAR}` wherever it appears (the redactor's `anywhereLength`). */
const ANYWHERE_LENGTH = 8;

/** Rewrites errors so that none of `variables`' values (name → expanded value) appears in them. */
export type Conceal = (error: unknown) => Error;

export function concealer(variables: ReadonlyMap<string, string>): Conceal {
  const values = [...variables].filter(([, value]) => value.length >= MIN_LENGTH);
  if (values.length === 0) return (error) => wrap(error, (message) => message);
  // Longest first, so a value holding another is replaced whole.
  values.sort(([, a], [, b]) => b.length - a.length);
  let redactor: Redactor | undefined;
  const text = (message: string) => {
    let out = message;
    for (const [name, value] of values)
      if (value.length >= ANYWHERE_LENGTH) out = out.split(value).join(`\${${name}}`);
    redactor ??= registered(values);
    return redactor.redact(out);
  };
  return (error) => wrap(error, text);
}

function registered(values: ReadonlyArray<[string, string]>): Redactor {
  const redactor = createRedactor({ onWarning: () => {}, maxAgeMs: Number.POSITIVE_INFINITY });
  for (const [name, value] of values) redactor.register(value, { key: name });
  return redactor;
}

/**
 * The same error with `text` applied to its message and its cause's. A Keyway error keeps its
 * class unless a value had to be taken out (then it is a ConfigurationError: the config put the
 * value there); anything else becomes a ConfigurationError that keeps only its kind.
 */
function wrap(error: unknown, text: (message: string) => string): Error {
  const cause = error instanceof Error ? error.cause : undefined;
  const concealedCause =
    cause instanceof Error
      ? new SanitizedCause(safeIdentifier(cause.name) ?? "Error", text(cause.message))
      : undefined;
  if (error instanceof SecretsError) {
    const message = text(error.message);
    const causeClean = !(cause instanceof Error) || concealedCause?.message === cause.message;
    if (message === error.message && causeClean) return error;
    return new ConfigurationError(message, { backend: error.backend, cause: concealedCause });
  }
  const name = error instanceof Error ? (safeIdentifier(error.name) ?? "Error") : typeof error;
  return new ConfigurationError(`The configuration could not be loaded (${name}).`, {
    cause:
      concealedCause ?? (error instanceof Error ? new SanitizedCause(name, text(error.message)) : undefined),
  });
}
