// node-vault #50, #124: node-vault's errors carry the request options, X-Vault-Token included.
// With a distinctive token (and AppRole secret) that no generic scrubbing pattern matches, force
// 403s, 404s, 5xx, refused connections, timeouts and aborts, through Keyway's transport and
// through node-vault's own axios one, and look for the credential in every printed form.
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import { inspect } from "node:util";
import { printedForms } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  isSecretsError,
  SecretNotFoundError,
} from "@keyway/core";
import { isInstalled, startServer } from "@keyway/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultBackend, type VaultBackend, type VaultClient } from "../src/index.js";
import { enable, endpoint, runPrefix, server, sys } from "./helpers.js";

const canary = `keyway-canary-${randomBytes(8).toString("hex")}`;
const canarySecretId = `keyway-canary-secret-${randomBytes(8).toString("hex")}`;
const prefix = runPrefix("leak");

/** Every printed form of the error and of each cause below it. */
function allForms(error: unknown): string {
  const forms: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 10; depth++) {
    forms.push(printedForms(e), inspect(e, { showHidden: true, depth: 10, getters: true }));
    e = e instanceof Error ? e.cause : undefined;
  }
  return forms.join("\n");
}

async function expectNoLeak(
  promise: Promise<unknown> | undefined,
  type: abstract new (...a: never[]) => Error,
) {
  const error = await promise?.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(isSecretsError(error)).toBe(true);
  const forms = allForms(error);
  expect(forms).not.toContain(canary);
  expect(forms).not.toContain(canarySecretId);
  return error as Error;
}

/** A local HTTP server: `reply` answers each request (or never, to hang). */
async function fakeVault(
  reply: ((res: import("node:http").ServerResponse) => void) | "hang",
): Promise<Server & { url: string }> {
  const srv = createServer((req, res) => {
    req.resume();
    if (reply !== "hang") reply(res);
  });
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  return Object.assign(srv, { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}` });
}

describe.skipIf(!server)("the Vault token never appears in a thrown error (node-vault #50, #124)", () => {
  let backend: VaultBackend;
  const servers: Server[] = [];
  beforeAll(async () => {
    await sys("PUT", "sys/policies/acl/kw-canary", {
      policy: `path "secret/data/${prefix}/_/ok/*" { capabilities = ["read"] }`,
    });
    await sys("POST", "auth/token/create", { id: canary, policies: ["kw-canary"], ttl: "10m" });
    backend = createVaultBackend({ endpoint, auth: { method: "token", token: canary }, prefix });
  });
  afterAll(() => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
  });

  it("403 on read, list and write", async () => {
    await expectNoLeak(backend.get({ namespace: "denied", key: "K" }), AccessDeniedError);
    await expectNoLeak(backend.list?.("denied"), AccessDeniedError);
    await expectNoLeak(backend.put?.({ namespace: "ok", key: "K" }, "v"), AccessDeniedError);
    await expectNoLeak(backend.delete?.({ namespace: "ok", key: "K" }), AccessDeniedError);
  });

  it("404", async () => {
    await expectNoLeak(backend.get({ namespace: "ok", key: "MISSING" }), SecretNotFoundError);
  });

  it.runIf(isInstalled("openbao"))("503 from a sealed server", async () => {
    const sealed = await startServer("openbao");
    try {
      await fetch(`${sealed.endpoint}/v1/sys/seal`, { method: "PUT", headers: { "x-vault-token": "root" } });
      const b = createVaultBackend({ endpoint: sealed.endpoint, auth: { method: "token", token: canary } });
      await expectNoLeak(b.get({ namespace: "", key: "K" }), BackendUnavailableError);
    } finally {
      await sealed.stop();
    }
  });

  it("a 500 whose error strings echo the token", async () => {
    const srv = await fakeVault((res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(
        JSON.stringify({ errors: [`internal error: token ${canary} failed; X-Vault-Token: ${canary}`] }),
      );
    });
    servers.push(srv);
    const b = createVaultBackend({ endpoint: srv.url, auth: { method: "token", token: canary } });
    const error = await expectNoLeak(b.get({ namespace: "", key: "K" }), BackendUnavailableError);
    expect(error.message).toContain("internal error");
  });

  it("a refused connection, a timeout and an abort", async () => {
    const refused = createVaultBackend({
      endpoint: "http://127.0.0.1:9",
      auth: { method: "token", token: canary },
    });
    await expectNoLeak(refused.get({ namespace: "", key: "K" }), BackendUnavailableError);
    const srv = await fakeVault("hang");
    servers.push(srv);
    const slow = createVaultBackend({
      endpoint: srv.url,
      auth: { method: "token", token: canary },
      requestTimeoutMs: 200,
    });
    const started = Date.now();
    await expectNoLeak(slow.get({ namespace: "", key: "K" }), BackendUnavailableError);
    expect(Date.now() - started).toBeLessThan(2000);
    const patient = createVaultBackend({
      endpoint: srv.url,
      auth: { method: "token", token: canary },
      requestTimeoutMs: 60_000,
    });
    const begun = Date.now();
    await expectNoLeak(
      patient.get({ namespace: "", key: "K" }, { signal: AbortSignal.timeout(100) }),
      BackendUnavailableError,
    );
    expect(Date.now() - begun).toBeLessThan(2000);
  });

  it("a failed AppRole login does not show the secretId", async () => {
    await enable("auth", "approle", { type: "approle" });
    const b = createVaultBackend({
      endpoint,
      auth: { method: "approle", roleId: "no-such-role", secretId: canarySecretId },
      prefix,
    });
    await expectNoLeak(b.get({ namespace: "ok", key: "K" }), AccessDeniedError);
  });

  describe("through node-vault's own axios transport (an injected client)", () => {
    const axiosClient = async (url: string): Promise<VaultClient> => {
      const { default: vault } = await import("node-vault");
      return vault({ endpoint: url, token: canary }) as unknown as VaultClient;
    };

    it("a refused connection: axios's error holds the request config and headers", async () => {
      const client = await axiosClient("http://127.0.0.1:9");
      // Prove the raw error would leak, so this test can fail.
      const raw = await client.read("secret/data/x").catch((e: unknown) => e);
      expect(inspect(raw, { depth: 10 })).toContain(canary);
      const b = createVaultBackend({ client, prefix });
      await expectNoLeak(b.get({ namespace: "", key: "K" }), BackendUnavailableError);
    });

    it("403 and 404", async () => {
      const b = createVaultBackend({ client: await axiosClient(endpoint), prefix });
      await expectNoLeak(b.get({ namespace: "denied", key: "K" }), AccessDeniedError);
      await expectNoLeak(b.get({ namespace: "ok", key: "MISSING" }), SecretNotFoundError);
    });
  });
});
