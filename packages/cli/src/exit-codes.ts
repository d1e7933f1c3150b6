/**
 * The CLI's exit codes. Core's errors carry a stable `code`; mapping a code to a process exit
 * code is the CLI's business, so the table lives here.
 */
import type { SecretsError, SecretsErrorCode } from "@keyway/core";

/** Exit codes: 0 ok; 2 not found; 3 invalid; 4 denied or read-only; 5 unavailable; 1 anything else. */
export const EXIT = { ok: 0, other: 1, notFound: 2, invalid: 3, denied: 4, unavailable: 5 } as const;

const BY_CODE: Record<SecretsErrorCode, number> = {
  NOT_FOUND: EXIT.notFound,
  SUBKEY_NOT_FOUND: EXIT.notFound,
  DISABLED: EXIT.notFound,
  INVALID_REFERENCE: EXIT.invalid,
  INVALID_VALUE: EXIT.invalid,
  INVALID_TEMPLATE: EXIT.invalid,
  CONFIGURATION: EXIT.invalid,
  ACCESS_DENIED: EXIT.denied,
  READ_ONLY: EXIT.denied,
  CONFLICT: EXIT.denied,
  UNAVAILABLE: EXIT.unavailable,
};

/** The exit code for one kind of failure: 2 not found, 3 invalid, 4 denied, 5 unavailable. */
export function exitCodeFor(code: SecretsErrorCode): number {
  return BY_CODE[code] ?? EXIT.other;
}

/** The exit code for a list of failures: the highest of 5 > 4 > 3 > 2 (0 for none). */
export function exitCodeOf(errors: readonly SecretsError[]): number {
  let worst: number = EXIT.ok;
  for (const error of errors) worst = Math.max(worst, exitCodeFor(error.code));
  return worst;
}
