/**
 * The options of the Vault backend: the zod schemas (the only validator: `keyway.yaml` through
 * definition.ts, `createVaultBackend` through defineBackend), the environment's defaults
 * (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE, read from the `env` option) and the resolved
 * settings. A problem names the option and never echoes a value (an endpoint may carry
 * credentials, a token is one).
 */
import { renamedOption } from "@keyway/core/backend";
import { z } from "zod";
import type { VaultAuth } from "./auth.js";
import type { VaultClient } from "./client.js";
import type { KvVersion } from "./kv.js";
import { managedLayout, type PathLayout, pathSegments, readOnlyLayout } from "./names.js";

/** Options of `createVaultBackend`. */
export interface VaultBackendOptions {
  /** Vault's address. @default the VAULT_ADDR environment variable, else "http://127.0.0.1:8200" */
  endpoint?: string | undefined;
  /** How to authenticate. @default { method: "token" } with the VAULT_TOKEN environment variable */
  auth?: VaultAuth | undefined;
  /** Where the KV secrets engine is mounted. @default "secret" */
  mount?: string | undefined;
  /** The KV engine's version: 2 keeps versions and custom metadata; 1 keeps neither. @default 2 */
  kvVersion?: 1 | 2 | undefined;
  /** Path below the mount under which managed secrets live (several deployments can share a mount). @default "keyway" */
  prefix?: string | undefined;
  /**
   * Selects the read-only mode: secrets are read at `<mount>/<readOnlyPath>/<namespace…>/<key>`
   * (a `{tenant}` segment takes the ref's tenant), each path's whole data object is the value (as
   * JSON, so `secret('api', subkey='TOKEN')` works), and nothing is ever written.
   * Excludes `prefix`. @default undefined (managed mode)
   */
  readOnlyPath?: string | undefined;
  /** Vault Enterprise / OpenBao namespace, sent as X-Vault-Namespace. @default the VAULT_NAMESPACE environment variable */
  namespace?: string | undefined;
  /** Per-request timeout in milliseconds (the resolver's own deadline also aborts requests). @default 10000 */
  requestTimeoutMs?: number | undefined;
  /** @deprecated Use `requestTimeoutMs` (read with a one-time warning, KEYWAY_DEP_TIMEOUT_MS). */
  timeoutMs?: number | undefined;
  /** Requests in flight at once for `getMany` and the metadata reads of `list`. @default 8 */
  concurrency?: number | undefined;
  /** Extra CA certificates (PEM) to trust for an https endpoint. @default Node's bundled CAs only */
  caCert?: string | undefined;
  /** The backend's name in errors and stats. @default "vault" */
  name?: string | undefined;
  /** Where VAULT_ADDR, VAULT_TOKEN and VAULT_NAMESPACE are read. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * A node-vault client to use instead of creating one (its transport, TLS and token are yours;
   * an `auth` login sets its token). Keyway's AbortSignal then only stops waiting for the answer.
   * @default a client created on first use
   */
  client?: VaultClient | undefined;
}

/** What the backend works with, defaults applied. */
export interface ResolvedOptions {
  name: string;
  endpoint: string;
  namespace: string | undefined;
  mount: string;
  kvVersion: KvVersion;
  layout: PathLayout;
  readOnly: boolean;
  /** undefined only for an injected client without `auth`: its own token is used. */
  auth: VaultAuth | undefined;
  requestTimeoutMs: number;
  concurrency: number;
  caCert: string | undefined;
  client: VaultClient | undefined;
}

const text = z.string().min(1);
const mount = text.optional();
// node-vault puts the username into the URL path through a template: keep it to safe characters.
const username = text.regex(/^[A-Za-z0-9._@+-]+$/, { error: "may hold only letters, digits and . _ @ + -" });

const authSchema = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("token"), token: text.optional() }),
  z.strictObject({ method: z.literal("approle"), roleId: text, secretId: text, mount }),
  z.strictObject({ method: z.literal("userpass"), username, password: text, mount }),
  z.strictObject({ method: z.literal("kubernetes"), role: text, jwtPath: text.optional(), mount }),
]);

const fields = {
  endpoint: z.string().optional(),
  auth: authSchema.optional(),
  mount: text.optional(),
  kvVersion: z.union([z.literal(1), z.literal(2)]).optional(),
  prefix: z.string().optional(),
  readOnlyPath: z.string().optional(),
  namespace: z.string().optional(),
  requestTimeoutMs: z.number().positive().optional(),
  /** @deprecated the old name of `requestTimeoutMs` (read with a warning). */
  timeoutMs: z.number().positive().optional(),
  concurrency: z.int().min(1).max(64).optional(),
  caCert: text.optional(),
};

type Fields = { [K in keyof typeof fields]?: z.output<(typeof fields)[K]> };
type Env = Readonly<Record<string, string | undefined>>;

/** The checks that span options, or read the environment: each adds an issue at its option. */
function checkTogether(o: Fields & { client?: unknown }, env: Env | undefined, ctx: z.RefinementCtx): void {
  const issue = (path: string, message: string) =>
    ctx.addIssue({ code: "custom", path: path.split("."), message });
  if (o.prefix !== undefined && o.readOnlyPath !== undefined)
    issue("readOnlyPath", "excludes 'prefix': 'readOnlyPath' alone selects the read-only mode");
  const endpoint = o.endpoint ?? env?.VAULT_ADDR;
  if (endpoint !== undefined && !isEndpoint(endpoint))
    issue(
      "endpoint",
      "must be an http(s) URL without credentials or query (e.g. https://vault.example.com:8200)",
    );
  for (const [option, value, tenant] of [
    ["mount", o.mount, false],
    ["prefix", o.prefix, false],
    ["readOnlyPath", o.readOnlyPath, true],
    ["namespace", o.namespace, false],
    ["auth.mount", o.auth && "mount" in o.auth ? o.auth.mount : undefined, false],
  ] as const) {
    if (value === undefined) continue;
    try {
      pathSegments(value, option, tenant);
    } catch {
      issue(option, `must be '/'-separated segments of A-Z a-z 0-9 _ . -${tenant ? " (or {tenant})" : ""}`);
    }
  }
  if (env === undefined || o.client !== undefined) return; // a file is checked before its env is known
  if (o.auth === undefined && !env.VAULT_TOKEN)
    issue("auth", "is missing and VAULT_TOKEN is not set: give { method: 'token', token } or a login method");
  else if (o.auth?.method === "token" && o.auth.token === undefined && !env.VAULT_TOKEN)
    issue("auth.token", "is missing and VAULT_TOKEN is not set");
}

function isEndpoint(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return (
      (url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password && !url.search
    );
  } catch {
    return false;
  }
}

/** The options of `type: vault` in `keyway.yaml`. */
export const vaultOptionsSchema = z
  .strictObject(fields)
  .superRefine((o, ctx) => checkTogether(o, undefined, ctx));

/** The options of `createVaultBackend`: the file's, a `name`, the `env` and an injected `client`. */
export const vaultBackendSchema = z
  .strictObject({
    ...fields,
    name: text.optional(),
    env: z.record(z.string(), z.string().optional()).optional(),
    client: z
      .custom<VaultClient>((c) => typeof c === "object" && c !== null, "must be a node-vault client")
      .optional(),
  })
  .superRefine((o, ctx) => checkTogether(o, o.env ?? process.env, ctx))
  .transform((o): ResolvedOptions => {
    const env = o.env ?? process.env;
    const namespace = o.namespace ?? env.VAULT_NAMESPACE;
    return {
      name: o.name ?? "vault",
      endpoint: (o.endpoint ?? env.VAULT_ADDR ?? "http://127.0.0.1:8200").replace(/\/+$/, ""),
      namespace: namespace ? pathSegments(namespace, "namespace").join("/") : undefined,
      mount: pathSegments(o.mount ?? "secret", "mount").join("/"),
      kvVersion: o.kvVersion ?? 2,
      layout:
        o.readOnlyPath !== undefined ? readOnlyLayout(o.readOnlyPath) : managedLayout(o.prefix ?? "keyway"),
      readOnly: o.readOnlyPath !== undefined,
      auth: resolveAuth(o.auth, env, o.client !== undefined),
      requestTimeoutMs: o.requestTimeoutMs ?? 10_000,
      concurrency: o.concurrency ?? 8,
      caCert: o.caCert,
      client: o.client,
    };
  });

/** The auth to use: as given, with the token from VAULT_TOKEN when none is given. */
function resolveAuth(auth: Fields["auth"], env: Env, injected: boolean): VaultAuth | undefined {
  if (auth === undefined) return injected ? undefined : { method: "token", token: env.VAULT_TOKEN };
  if (auth.method === "token") return { method: "token", token: auth.token ?? env.VAULT_TOKEN };
  if (auth.method === "approle" || auth.method === "userpass" || auth.method === "kubernetes") {
    const path = auth.mount === undefined ? undefined : pathSegments(auth.mount, "auth.mount").join("/");
    return { ...auth, mount: path } as VaultAuth;
  }
  return auth;
}

/** `timeoutMs` (the old name) is read as `requestTimeoutMs`, with a one-time deprecation warning. */
export const renameTimeout = <O extends object>(options: O): O =>
  renamedOption(options, "timeoutMs", "requestTimeoutMs", "KEYWAY_DEP_TIMEOUT_MS");
