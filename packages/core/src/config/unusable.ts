/**
 * A configured backend that cannot be built (its package is missing, its options are wrong, a
 * `${VAR}` it reads is unset) stands in the router as one that fails every call with that
 * ConfigurationError. So only the commands that need it fail, with the same message as before,
 * and `router.prepare()` (a start-up check) still reports it. It claims writes and listing so a
 * put or a list reaches it and says what is wrong, rather than "read-only" or an empty list.
 */
import type { ConfigurationError, SecretBackend } from "../internal.js";

export function unusableBackend(name: string, error: ConfigurationError): SecretBackend {
  const fail = async (): Promise<never> => {
    throw error;
  };
  return {
    name,
    capabilities: {
      write: true,
      list: true,
      batch: false,
      versions: false,
      caseSensitiveKeys: true,
      maxValueBytes: Number.MAX_SAFE_INTEGER,
    },
    get: fail,
    list: fail,
    put: fail,
    delete: fail,
    probeVersion: fail,
    prepare: fail,
  };
}
