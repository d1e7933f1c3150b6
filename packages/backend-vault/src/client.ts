/**
 * Lazy node-vault client creation: `node-vault` (and axios behind it) is imported on first use,
 * so importing the backend loads neither. node-vault never retries; Keyway's resolver does.
 */
import type { client as NodeVaultClient } from "node-vault";
import { createTransport } from "./transport.js";

/** The part of a node-vault client Keyway calls; an injected client needs only these. */
export type VaultClient = Pick<
  NodeVaultClient,
  | "read"
  | "write"
  | "list"
  | "delete"
  | "approleLogin"
  | "userpassLogin"
  | "kubernetesLogin"
  | "tokenLookupSelf"
> & {
  /** The token sent as X-Vault-Token; node-vault's login methods set it. */
  token: string | undefined;
};

export interface ClientSettings {
  endpoint: string;
  /** Vault Enterprise namespace, sent as X-Vault-Namespace. */
  namespace: string | undefined;
  /** A static token; login-based auth sets it later. */
  token: string | undefined;
  requestTimeoutMs: number;
  caCert: string | undefined;
}

/** Creates a node-vault client with Keyway's transport (see transport.ts for why). */
export async function createVaultClient(settings: ClientSettings): Promise<VaultClient> {
  const { default: vault } = await import("node-vault");
  const client = vault({
    endpoint: settings.endpoint,
    namespace: settings.namespace,
    token: settings.token,
    "request-promise": createTransport({ timeoutMs: settings.requestTimeoutMs, caCert: settings.caCert }),
    // node-vault's default logger (the `debug` package, on with DEBUG=node-vault) prints every
    // request body: values written, AppRole secret ids, userpass passwords. Never log them.
    debug: () => {},
  });
  // node-vault falls back to VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX from process.env for
  // any empty setting; Keyway resolved these itself (from its own `env`), so undo the fallbacks.
  const mutable = client as unknown as {
    token: string | undefined;
    namespace: string | undefined;
    pathPrefix: string;
  };
  mutable.token = settings.token;
  mutable.namespace = settings.namespace;
  mutable.pathPrefix = "";
  return client as unknown as VaultClient;
}
