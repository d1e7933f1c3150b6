/**
 * Eager option checks: every shape problem is a ConfigurationError from the factory, naming the
 * option and never echoing a value (an endpoint may carry credentials, a token is one).
 */
import { ConfigurationError } from "@keyway/core/backend";
import type { VaultAuth } from "./auth.js";
import type { VaultBackendOptions } from "./index.js";
import type { KvVersion } from "./kv.js";
import { managedLayout, type PathLayout, pathSegments, readOnlyLayout } from "./names.js";

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
  timeoutMs: number;
  concurrency: number;
  caCert: string | undefined;
}

const USERNAME = /^[A-Za-z0-9._@+-]+$/;

export function resolveOptions(options: VaultBackendOptions): ResolvedOptions {
  const env = options.env ?? process.env;
  const fail = (message: string): never => {
    throw new ConfigurationError(`Vault backend option ${message}`);
  };
  if (typeof options !== "object" || options === null) fail("object expected.");
  const endpoint = options.endpoint ?? env.VAULT_ADDR ?? "http://127.0.0.1:8200";
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (
    !url ||
    (url.protocol !== "http:" && url.protocol !== "https:") ||
    url.username ||
    url.password ||
    url.search
  ) {
    fail(
      "'endpoint' must be an http(s) URL without credentials or query (e.g. https://vault.example.com:8200).",
    );
  }
  const mount = pathSegments(str(options.mount, "mount") ?? "secret", "mount").join("/");
  if (mount === "") fail("'mount' must not be empty.");
  const kvVersion = options.kvVersion ?? 2;
  if (kvVersion !== 1 && kvVersion !== 2) fail("'kvVersion' must be 1 or 2.");
  const prefix = str(options.prefix, "prefix");
  const readOnlyPath = str(options.readOnlyPath, "readOnlyPath");
  if (prefix !== undefined && readOnlyPath !== undefined) {
    fail("'prefix' and 'readOnlyPath' exclude each other: 'readOnlyPath' alone selects the read-only mode.");
  }
  const layout =
    readOnlyPath !== undefined ? readOnlyLayout(readOnlyPath) : managedLayout(prefix ?? "keyway");
  const namespaceOption = str(options.namespace, "namespace") ?? env.VAULT_NAMESPACE;
  const namespace = namespaceOption ? pathSegments(namespaceOption, "namespace").join("/") : undefined;
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
    fail("'timeoutMs' must be a positive number.");
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)
    fail("'concurrency' must be an integer from 1 to 64.");
  const caCert = str(options.caCert, "caCert");
  const name = str(options.name, "name") ?? "vault";
  return {
    name,
    endpoint: endpoint.replace(/\/+$/, ""),
    namespace,
    mount,
    kvVersion,
    layout,
    readOnly: readOnlyPath !== undefined,
    auth: resolveAuth(options, env, fail),
    timeoutMs,
    concurrency,
    caCert,
  };
}

function resolveAuth(
  options: VaultBackendOptions,
  env: Readonly<Record<string, string | undefined>>,
  fail: (message: string) => never,
): VaultAuth | undefined {
  const auth = options.auth as Record<string, unknown> | undefined;
  if (auth === undefined) {
    if (options.client) return undefined;
    if (!env.VAULT_TOKEN)
      fail(
        "'auth' is missing and VAULT_TOKEN is not set: give { method: 'token', token } or a login method.",
      );
    return { method: "token", token: env.VAULT_TOKEN };
  }
  if (typeof auth !== "object" || auth === null) return fail("'auth' must be an object with a 'method'.");
  const need = (field: string): string => {
    const v = auth[field];
    if (typeof v !== "string" || v.length === 0)
      fail(`'auth.${field}' must be a non-empty string for method '${String(auth.method)}'.`);
    return v as string;
  };
  const mount = auth.mount === undefined ? undefined : pathSegments(need("mount"), "auth.mount").join("/");
  switch (auth.method) {
    case "token": {
      const token = auth.token === undefined ? env.VAULT_TOKEN : need("token");
      if (!token && !options.client) fail("'auth.token' is missing and VAULT_TOKEN is not set.");
      return { method: "token", token };
    }
    case "approle":
      return { method: "approle", roleId: need("roleId"), secretId: need("secretId"), mount };
    case "userpass": {
      const username = need("username");
      // node-vault puts the username into the URL path through a template: keep it to safe characters.
      if (!USERNAME.test(username)) fail("'auth.username' may hold only letters, digits and . _ @ + -.");
      return { method: "userpass", username, password: need("password"), mount };
    }
    case "kubernetes":
      return {
        method: "kubernetes",
        role: need("role"),
        jwtPath: auth.jwtPath === undefined ? undefined : need("jwtPath"),
        mount,
      };
    default:
      return fail("'auth.method' must be one of token, approle, userpass, kubernetes.");
  }
}

function str(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    throw new ConfigurationError(`Vault backend option '${option}' must be a string.`);
  return value;
}
