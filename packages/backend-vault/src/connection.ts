/**
 * The Vault connection: the node-vault client (created on first use, or injected) with its login
 * session, and the one way every request is sent (`makeCall`): aborted with the caller's signal,
 * logged in first when needed, errors mapped, and after a 403 on an expired or revoked login
 * token logged in again and retried once.
 */
import { ConfigurationError, isSecretsError } from "@keyway/core/backend";
import { VaultSession } from "./auth.js";
import { createVaultClient, type VaultClient } from "./client.js";
import { isPlain404, mapVaultError, vaultStatus } from "./errors.js";
import type { ResolvedOptions } from "./options.js";

/** One request to Vault: what it is about (for error mapping), the signal, and what to send. */
export type RequestOptions = { signal?: AbortSignal | undefined };
export type Call = <T>(
  ctx: {
    operation: "read" | "write" | "list" | "delete";
    path: string;
    key?: string | undefined;
    sensitive?: string[] | undefined;
  },
  signal: AbortSignal | undefined,
  fn: (client: VaultClient, requestOptions: RequestOptions) => Promise<T>,
) => Promise<T>;

/** A KV answer: `data` holds the secret (or, for metadata, its versions). */
export type Body = { data?: Record<string, unknown> | null } | undefined;

/** A 404 that is a plain "nothing there" reads as undefined; any other error is thrown. */
export const undefinedOn404 = (error: unknown): undefined => {
  if (isPlain404(error)) return undefined;
  throw error;
};

/** What the reads and writes work with. */
export interface KvContext {
  readonly settings: ResolvedOptions;
  readonly call: Call;
}

export interface Connection {
  readonly client: VaultClient;
  readonly session: VaultSession;
}

/** Loads node-vault and builds the client (or takes the injected one) and its session. */
export async function connect(o: ResolvedOptions): Promise<Connection> {
  try {
    const staticToken = o.auth?.method === "token" ? o.auth.token : undefined;
    const client =
      o.client ??
      (await createVaultClient({
        endpoint: o.endpoint,
        namespace: o.namespace,
        token: staticToken,
        requestTimeoutMs: o.requestTimeoutMs,
        caCert: o.caCert,
      }));
    if (o.client && staticToken) client.token = staticToken;
    return { client, session: new VaultSession(client, o.auth, o.name) };
  } catch (error) {
    throw isSecretsError(error)
      ? error
      : new ConfigurationError("node-vault could not be loaded.", { backend: o.name, cause: error });
  }
}

/** The {@link Call} every read and write goes through, over the connection `connection()` gives. */
export function makeCall(connection: () => Promise<Connection>): Call {
  return async (ctx, signal, fn) => {
    const { client, session } = await connection();
    const map = (error: unknown) =>
      mapVaultError(error, {
        ...session.context(ctx.operation, ctx.path),
        key: ctx.key,
        secrets: [...session.secrets(), ...(ctx.sensitive ?? [])],
      });
    const attempt = () => abortable(fn(client, { signal }), signal);
    try {
      await session.ensure(signal);
      const tokenUsed = client.token;
      try {
        return await attempt();
      } catch (error) {
        if (vaultStatus(error) !== 403) throw error;
        if (!(await session.recover(tokenUsed, signal))) throw error;
        return await attempt();
      }
    } catch (error) {
      throw map(error);
    }
  };
}

/** Races `promise` with `signal`, so an injected client (whose transport ignores it) still stops waiting. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(Object.assign(new Error("The Vault request was aborted."), { code: "ABORT_ERR" }));
    // Settle through `promise` first, so its own rejection is always handled.
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}
