/**
 * The Vault token's life: a static token is used as given; AppRole, userpass and Kubernetes log
 * in on first use, log in again when less than 10% of the login's `lease_duration` remains, and
 * once more when a request is refused with 403 because the token expired or was revoked.
 */
import { readFile } from "node:fs/promises";
import { ConfigurationError } from "@keyway/core/backend";
import type { VaultClient } from "./client.js";
import { type ErrorContext, mapVaultError, vaultStatus } from "./errors.js";

/** How the backend authenticates (`method` picks one). */
export type VaultAuth =
  | {
      method: "token";
      /** The token (never logged, never in an error). @default the VAULT_TOKEN environment variable */
      token?: string | undefined;
    }
  | {
      method: "approle";
      roleId: string;
      /** Never logged, never in an error. Each login uses it once (mind `secret_id_num_uses`). */
      secretId: string;
      /** Where the AppRole auth method is mounted. @default "approle" */
      mount?: string | undefined;
    }
  | {
      method: "userpass";
      /** Letters, digits and `. _ @ + -`. */
      username: string;
      /** Never logged, never in an error. */
      password: string;
      /** @default "userpass" */
      mount?: string | undefined;
    }
  | {
      method: "kubernetes";
      /** The Vault role bound to the pod's service account. */
      role: string;
      /** Re-read at each login, since the kubelet rotates it. @default "/var/run/secrets/kubernetes.io/serviceaccount/token" */
      jwtPath?: string | undefined;
      /** @default "kubernetes" */
      mount?: string | undefined;
    };

export const DEFAULT_JWT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount/token";
/** Log in again when less than this share of the token's lease remains. */
const RENEW_FRACTION = 0.1;

interface LoginResponse {
  auth?: { client_token?: unknown; lease_duration?: unknown } | null;
}

export class VaultSession {
  /** When to log in again (epoch ms); undefined until the first login; Infinity for no expiry. */
  #renewAt: number | undefined;
  #login: Promise<void> | undefined;
  #recovering: Promise<boolean> | undefined;
  #jwt: string | undefined;

  constructor(
    private readonly client: VaultClient,
    private readonly auth: VaultAuth | undefined,
    private readonly backend: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** True for AppRole, userpass and Kubernetes (the methods that can log in again). */
  get renewable(): boolean {
    return this.auth !== undefined && this.auth.method !== "token";
  }

  /** Every credential this session knows, to scrub from errors. */
  secrets(): string[] {
    const a = this.auth;
    const known = [this.client.token, this.#jwt];
    if (a?.method === "token") known.push(a.token);
    if (a?.method === "approle") known.push(a.secretId, a.roleId);
    if (a?.method === "userpass") known.push(a.password);
    return known.filter((s): s is string => typeof s === "string" && s.length > 0);
  }

  /** Logs in if there is no token yet or it is about to expire. */
  async ensure(signal: AbortSignal | undefined): Promise<void> {
    if (!this.renewable) return;
    if (this.#renewAt === undefined || this.now() >= this.#renewAt) await this.login(signal);
  }

  /**
   * After a 403 made with `tokenUsed`: true when the request is worth one more try, because the
   * token has been replaced since, or was dead (lookup-self refused it) and a new login worked.
   * A live token that lacks permission gives false: that 403 is a real denial.
   */
  recover(tokenUsed: string | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    if (!this.renewable) return Promise.resolve(false);
    if (this.client.token !== tokenUsed) return Promise.resolve(true);
    this.#recovering ??= (async () => {
      try {
        await this.client.tokenLookupSelf({ requestOptions: { signal } });
        return false;
      } catch (error) {
        if (vaultStatus(error) !== 403)
          throw mapVaultError(error, this.context("read", "auth/token/lookup-self"));
        await this.login(signal);
        return true;
      } finally {
        this.#recovering = undefined;
      }
    })();
    return this.#recovering;
  }

  /** One login at a time; concurrent callers share it. */
  login(signal: AbortSignal | undefined): Promise<void> {
    this.#login ??= this.#doLogin(signal).finally(() => {
      this.#login = undefined;
    });
    return this.#login;
  }

  async #doLogin(signal: AbortSignal | undefined): Promise<void> {
    const auth = this.auth;
    if (!auth || auth.method === "token") return;
    const requestOptions = { signal };
    // Always name the mount: node-vault 0.12's kubernetesLogin template reads `kubernetesPath` from
    // the call's arguments, not the client, so without one it posts to `auth//login` (a 307).
    const mount_point = auth.mount ?? auth.method;
    const path = `auth/${mount_point}/login`;
    let response: LoginResponse;
    try {
      if (auth.method === "approle") {
        response = await this.client.approleLogin({
          role_id: auth.roleId,
          secret_id: auth.secretId,
          mount_point,
          requestOptions,
        });
      } else if (auth.method === "userpass") {
        response = await this.client.userpassLogin({
          username: auth.username,
          password: auth.password,
          mount_point,
          requestOptions,
        });
      } else {
        const jwt = await this.#readJwt(auth.jwtPath ?? DEFAULT_JWT_PATH);
        response = await this.client.kubernetesLogin({
          role: auth.role,
          jwt,
          mount_point,
          requestOptions,
        });
      }
    } catch (error) {
      throw mapVaultError(error, this.context("login", path));
    }
    const token = response?.auth?.client_token;
    if (typeof token !== "string" || token.length === 0) {
      throw new ConfigurationError(`Vault's ${auth.method} login at '${path}' returned no token.`, {
        backend: this.backend,
      });
    }
    // node-vault's login methods set the token already; set it too for clients that do not.
    this.client.token = token;
    const lease = Number(response.auth?.lease_duration ?? 0);
    this.#renewAt = lease > 0 ? this.now() + lease * 1000 * (1 - RENEW_FRACTION) : Number.POSITIVE_INFINITY;
  }

  async #readJwt(path: string): Promise<string> {
    try {
      this.#jwt = (await readFile(path, "utf8")).trim();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      throw new ConfigurationError(
        `Cannot read the Kubernetes service-account token file '${path}' (${typeof code === "string" ? code : "error"}).`,
        { backend: this.backend },
      );
    }
    return this.#jwt;
  }

  context(operation: ErrorContext["operation"], path: string): ErrorContext {
    return { backend: this.backend, operation, path, method: this.auth?.method, secrets: this.secrets() };
  }
}
