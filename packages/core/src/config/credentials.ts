/**
 * The credential variables of the built-in backend types, as each backend's definition lists
 * them (one list per backend, in its `definition.ts`). `keyway run` keeps all of them from its
 * child whether or not the config uses that backend: an SDK reads them by default, so whoever
 * holds them can read what Keyway can.
 */
import { ConfigurationError, type CredentialVariables } from "../internal.js";

/** The backend types Keyway ships, each in `@keyway/backend-<type>`. */
export const BUILT_IN_BACKEND_TYPES = ["env", "aws", "vault", "azure", "gcp", "store"] as const;

/** The union of several lists, each name or pattern once, sorted. */
export function mergeCredentialVariables(lists: readonly CredentialVariables[]): CredentialVariables {
  const secret = new Set(lists.flatMap((list) => list.secret));
  const locator = new Set(lists.flatMap((list) => list.locator).filter((name) => !secret.has(name)));
  return { secret: [...secret].sort(), locator: [...locator].sort() };
}

/**
 * The default credential variables of every built-in backend that is installed (a backend that
 * is not installed cannot have read anything). A definition that is installed but fails to load
 * is an error: the list would be incomplete.
 */
export async function builtInCredentialVariables(): Promise<CredentialVariables> {
  const lists = await Promise.all(
    BUILT_IN_BACKEND_TYPES.map(async (type) => {
      try {
        const module = (await import(`@keyway/backend-${type}/definition`)) as {
          definition: { credentialVariables?(options: object): CredentialVariables };
        };
        return module.definition.credentialVariables?.({});
      } catch (error) {
        if ((error as { code?: string }).code === "ERR_MODULE_NOT_FOUND") return undefined;
        throw new ConfigurationError(`The definition of backend type '${type}' failed to load.`, {
          cause: error,
        });
      }
    }),
  );
  return mergeCredentialVariables(lists.filter((list) => list !== undefined));
}
