/** How the cache turns whatever a backend throws into a Keyway error. */
import { BackendUnavailableError, isSecretsError, type SecretsError } from "../errors.js";
import { formatRef, type SecretRef } from "../ref.js";

/** Anything a backend throws becomes a Keyway error; an abort by our deadline is a timeout. */
export function toSecretsError(
  raw: unknown,
  backend: string,
  signal?: AbortSignal,
  ref?: SecretRef,
): SecretsError {
  if (isSecretsError(raw)) return raw;
  const what = ref ? `secret '${ref.key}' (${formatRef(ref)})` : "a secret";
  if (signal?.aborted)
    return new BackendUnavailableError(`Timed out reading ${what}.`, { backend, cause: raw });
  return new BackendUnavailableError(`Backend '${backend}' failed reading ${what}.`, { backend, cause: raw });
}
