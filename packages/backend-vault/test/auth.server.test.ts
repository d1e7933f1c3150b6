// Auth against a real OpenBao: AppRole, userpass and Kubernetes logins (the Kubernetes one
// through a fake TokenReview API), re-login before the lease runs out, and one re-login plus one
// retry after a 403 on a revoked token, but never on a real denial.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AccessDeniedError, ConfigurationError } from "@keyway/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createVaultClient } from "../src/client.js";
import { createVaultBackend, type VaultAuth, type VaultClient } from "../src/index.js";
import { enable, endpoint, rootToken, runPrefix, server, sys } from "./helpers.js";

const prefix = runPrefix("auth");
const ref = { namespace: "auth", key: "K" };
const policy = `
path "secret/data/${prefix}/*" { capabilities = ["create", "read", "update", "delete"] }
path "secret/metadata/${prefix}/*" { capabilities = ["read", "list", "delete", "update", "create"] }
`;

/** A real node-vault client whose logins are counted. */
async function countingClient(): Promise<{ client: VaultClient; logins: () => number }> {
  const inner = await createVaultClient({
    endpoint,
    namespace: undefined,
    token: undefined,
    requestTimeoutMs: 10_000,
    caCert: undefined,
  });
  let logins = 0;
  const client = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof prop === "string" && prop.endsWith("Login") && typeof value === "function") {
        return (...args: unknown[]) => {
          logins++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return value;
    },
  });
  return { client, logins: () => logins };
}

async function approle(
  role: string,
  settings: Record<string, unknown>,
): Promise<{ roleId: string; secretId: string }> {
  await sys("POST", `auth/approle/role/${role}`, { token_policies: ["kw-auth"], ...settings });
  const { data: r } = await sys<{ data: { role_id: string } }>("GET", `auth/approle/role/${role}/role-id`);
  const { data: s } = await sys<{ data: { secret_id: string } }>(
    "POST",
    `auth/approle/role/${role}/secret-id`,
    {},
  );
  return { roleId: r.role_id, secretId: s.secret_id };
}

describe.skipIf(!server)("vault auth on OpenBao", () => {
  let role: { roleId: string; secretId: string };
  beforeAll(async () => {
    await sys("PUT", "sys/policies/acl/kw-auth", { policy });
    await enable("auth", "approle", { type: "approle" });
    await enable("auth", "userpass", { type: "userpass" });
    role = await approle("kw-role", { token_ttl: "5m" });
    await sys("POST", "auth/userpass/users/kw-user", {
      password: "kw-pass-123",
      token_policies: ["kw-auth"],
    });
    await createVaultBackend({ endpoint, auth: { method: "token", token: rootToken }, prefix }).put?.(
      ref,
      "authenticated",
    );
  });

  const backendWith = (auth: VaultAuth, client?: VaultClient) =>
    createVaultBackend({ endpoint, auth, prefix, client });

  it("AppRole: logs in with roleId and secretId, then reads and writes", async () => {
    const backend = backendWith({ method: "approle", ...role });
    expect((await backend.get(ref)).reveal()).toBe("authenticated");
    await backend.put?.({ namespace: "auth", key: "BY_APPROLE" }, "ok");
  });

  it("AppRole: a wrong secretId is AccessDeniedError that does not show it", async () => {
    const secretId = "wrong-secret-id-3f9a1c";
    const error = await backendWith({ method: "approle", roleId: role.roleId, secretId })
      .get(ref)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(secretId);
  });

  it("prepare logs in once, before any read, and the reads use that login", async () => {
    const { client, logins } = await countingClient();
    const backend = backendWith({ method: "approle", ...role }, client);
    await backend.prepare?.();
    expect(logins()).toBe(1);
    expect((await backend.get(ref)).reveal()).toBe("authenticated");
    expect(logins()).toBe(1);
  });

  it("prepare with a wrong secretId is AccessDeniedError that does not show it", async () => {
    const secretId = "wrong-prepare-secret-8d2e4b";
    const error = await backendWith({ method: "approle", roleId: role.roleId, secretId })
      .prepare?.()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(JSON.stringify(error) + String(error) + (error as Error).stack).not.toContain(secretId);
  });

  it("userpass: logs in, and a wrong password is AccessDeniedError", async () => {
    expect(
      (
        await backendWith({ method: "userpass", username: "kw-user", password: "kw-pass-123" }).get(ref)
      ).reveal(),
    ).toBe("authenticated");
    await expect(
      backendWith({ method: "userpass", username: "kw-user", password: "nope" }).get(ref),
    ).rejects.toBeInstanceOf(AccessDeniedError);
  });

  describe("Kubernetes", () => {
    let k8s: Server;
    let dir: string;
    let reviewed: string[] = [];
    const jwt = (sa: string, nonce = "1") => {
      const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
      // Legacy service-account token claims: the auth plugin takes the account's name and
      // namespace from them (unverified: the TokenReview is what authenticates).
      const claims = {
        iss: "kubernetes/serviceaccount",
        sub: `system:serviceaccount:default:${sa}`,
        "kubernetes.io/serviceaccount/namespace": "default",
        "kubernetes.io/serviceaccount/service-account.name": sa,
        "kubernetes.io/serviceaccount/service-account.uid": "uid-1",
        nonce,
      };
      return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.c2ln`;
    };
    beforeAll(async () => {
      // A fake Kubernetes API that approves every TokenReview for the service account default/keyway.
      k8s = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => {
          body += c;
        });
        req.on("end", () => {
          reviewed.push((JSON.parse(body) as { spec: { token: string } }).spec.token);
          res.writeHead(201, { "content-type": "application/json" });
          res.end(
            JSON.stringify({
              apiVersion: "authentication.k8s.io/v1",
              kind: "TokenReview",
              status: {
                authenticated: true,
                user: { username: "system:serviceaccount:default:keyway", uid: "uid-1" },
              },
            }),
          );
        });
      });
      await new Promise<void>((resolve) => k8s.listen(0, "127.0.0.1", resolve));
      const port = (k8s.address() as { port: number }).port;
      const ca = await readFile(
        fileURLToPath(new URL("./fixtures/fake-k8s-ca.pem", import.meta.url)),
        "utf8",
      );
      await enable("auth", "kubernetes", { type: "kubernetes" });
      await sys("POST", "auth/kubernetes/config", {
        kubernetes_host: `http://127.0.0.1:${port}`,
        kubernetes_ca_cert: ca,
        disable_local_ca_jwt: true,
      });
      await sys("POST", "auth/kubernetes/role/kw", {
        bound_service_account_names: ["keyway"],
        bound_service_account_namespaces: ["default"],
        token_policies: ["kw-auth"],
      });
      dir = await mkdtemp(path.join(tmpdir(), "keyway-k8s-"));
    });
    afterAll(async () => {
      k8s?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("logs in with the service-account token read from jwtPath (re-read at each login)", async () => {
      reviewed = [];
      const jwtPath = path.join(dir, "token");
      await writeFile(jwtPath, `${jwt("keyway")}\n`);
      const { client, logins } = await countingClient();
      const backend = backendWith({ method: "kubernetes", role: "kw", jwtPath }, client);
      expect((await backend.get(ref)).reveal()).toBe("authenticated");
      expect(reviewed).toEqual([jwt("keyway")]);
      // The kubelet rotates the file; the next login (forced by revoking the token) reads it anew.
      await writeFile(jwtPath, jwt("keyway", "2"));
      await sys("POST", "auth/token/revoke", { token: client.token });
      expect((await backend.get(ref)).reveal()).toBe("authenticated");
      expect(reviewed).toEqual([jwt("keyway"), jwt("keyway", "2")]);
      expect(logins()).toBe(2);
    });

    it("a missing token file is ConfigurationError naming the path", async () => {
      const jwtPath = path.join(dir, "missing");
      const error = await backendWith({ method: "kubernetes", role: "kw", jwtPath })
        .get(ref)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain(jwtPath);
    });
  });

  it("logs in again before the token expires (less than 10% of lease_duration left)", async () => {
    const short = await approle("kw-short", { token_ttl: "60s", token_max_ttl: "60s" });
    const { client, logins } = await countingClient();
    // The session reads Date.now (faked here, timers untouched): the clock moves to 91% of the
    // lease instead of a 2.8 s sleep into a 3 s one, and the token is still live on the server
    // when the new login happens (trust issue #20 point 9).
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const backend = backendWith({ method: "approle", ...short }, client);
      expect((await backend.get(ref)).reveal()).toBe("authenticated");
      expect(logins()).toBe(1);
      vi.setSystemTime(Date.now() + 54_000 - 1_000); // 88%: 12% of the lease left
      await backend.get(ref);
      expect(logins()).toBe(1);
      vi.setSystemTime(Date.now() + 1_600); // past 90%, before expiry
      expect((await backend.get(ref)).reveal()).toBe("authenticated");
      expect(logins()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a 403 on a revoked login token re-authenticates once and retries the request once", async () => {
    const { client, logins } = await countingClient();
    const backend = backendWith({ method: "approle", ...role }, client);
    await backend.get(ref);
    await sys("POST", "auth/token/revoke", { token: client.token });
    const results = await Promise.all([backend.get(ref), backend.get(ref), backend.get(ref)]);
    expect(results.map((v) => v.reveal())).toEqual(["authenticated", "authenticated", "authenticated"]);
    expect(logins()).toBe(2);
  });

  it("a 403 on a live token (no permission) is AccessDeniedError without a new login", async () => {
    const { client, logins } = await countingClient();
    const backend = createVaultBackend({
      endpoint,
      auth: { method: "approle", ...role },
      prefix: runPrefix("other"),
      client,
    });
    await expect(backend.get(ref)).rejects.toBeInstanceOf(AccessDeniedError);
    expect(logins()).toBe(1);
  });

  it("a static token gets no re-authentication: a revoked one is AccessDeniedError", async () => {
    const { auth } = await sys<{ auth: { client_token: string } }>("POST", "auth/token/create", {
      policies: ["kw-auth"],
    });
    const backend = backendWith({ method: "token", token: auth.client_token });
    await backend.get(ref);
    await sys("POST", "auth/token/revoke", { token: auth.client_token });
    await expect(backend.get(ref)).rejects.toBeInstanceOf(AccessDeniedError);
  });
});
