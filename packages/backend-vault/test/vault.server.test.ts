// The Vault backend against a real OpenBao (dev mode): the shared contract on KV v2 and KV v1,
// then what is specific to Vault: the path layout, metadata, binary values, getMany, list paging,
// delete, check-and-set, read-only mode, namespaces and the status mapping.

import { defineBackendContract, seedByPut } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  ReadOnlyError,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "@keyway/core";
import { isInstalled, startServer } from "@keyway/test-servers";
import * as vitest from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultClient } from "../src/client.js";
import { CheckAndSetConflictError, createVaultBackend, type VaultClient } from "../src/index.js";
import { enable, endpoint, rootToken, runPrefix, server, sys } from "./helpers.js";

const rootAuth = { method: "token" as const, token: rootToken };
const make = (extra: Parameters<typeof createVaultBackend>[0] = {}) =>
  createVaultBackend({ endpoint, auth: rootAuth, prefix: runPrefix("t"), ...extra });

describe.skipIf(!server)("vault backend on OpenBao", () => {
  defineBackendContract(vitest, "vault (KV v2)", {
    create: (seed) => seedByPut(make({ prefix: runPrefix("contract-v2") }), seed),
  });

  defineBackendContract(vitest, "vault (KV v1)", {
    create: async (seed) => {
      await enable("mounts", "kv1", { type: "kv", options: { version: "1" } });
      return seedByPut(make({ mount: "kv1", kvVersion: 1, prefix: runPrefix("contract-v1") }), seed);
    },
  });

  describe("path layout", () => {
    it("stores <mount>/data/<prefix>/<tenant or _>/<namespace…>/<KEY> as { value }", async () => {
      const prefix = runPrefix("layout");
      const backend = make({ prefix });
      await backend.put?.({ namespace: "company.team", key: "DB" }, "v1");
      await backend.put?.({ tenant: "acme", namespace: "company.team", key: "DB" }, "v2");
      const plain = await sys<{ data: { data: unknown } }>("GET", `secret/data/${prefix}/_/company/team/DB`);
      expect(plain.data.data).toEqual({ value: "v1" });
      const tenant = await sys<{ data: { data: unknown } }>(
        "GET",
        `secret/data/${prefix}/acme/company/team/DB`,
      );
      expect(tenant.data.data).toEqual({ value: "v2" });
    });

    it("keeps a root key and a namespace of the same name apart, and lists each where it belongs", async () => {
      const backend = make();
      await backend.put?.({ namespace: "", key: "A" }, "root-a");
      await backend.put?.({ namespace: "A", key: "B" }, "ns-a-b");
      await backend.put?.({ namespace: "A.B", key: "C" }, "ns-ab-c");
      expect((await backend.get({ namespace: "", key: "A" })).reveal()).toBe("root-a");
      expect((await backend.get({ namespace: "A", key: "B" })).reveal()).toBe("ns-a-b");
      expect((await backend.list?.(""))?.map((l) => l.key)).toEqual(["A"]);
      expect((await backend.list?.("A"))?.map((l) => l.key)).toEqual(["B"]);
      expect((await backend.list?.("A.B"))?.map((l) => l.key)).toEqual(["C"]);
      await expect(backend.get({ tenant: "a", namespace: "", key: "A" })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    });
  });

  describe("values and metadata", () => {
    it("round-trips bytes (not UTF-8) as { value_base64 } and returns them as bytes", async () => {
      const backend = make();
      const ref = { namespace: "bin", key: "CERT" };
      const bytes = Uint8Array.from([0, 255, 254, 128, 10, 13, 0xc3, 0x28]);
      await backend.put?.(ref, bytes);
      const value = await backend.get(ref);
      expect(value.isBinary).toBe(true);
      expect(Array.from(value.revealBytes())).toEqual(Array.from(bytes));
    });

    it("keeps description and tags in KV v2 custom metadata; a put without metadata keeps them", async () => {
      const prefix = runPrefix("meta");
      const backend = make({ prefix });
      const ref = { namespace: "m", key: "K" };
      await backend.put?.(ref, "one", { description: "the db", tags: { team: "core", env: "prod" } });
      const raw = await sys<{ data: { custom_metadata: unknown } }>("GET", `secret/metadata/${prefix}/_/m/K`);
      expect(raw.data.custom_metadata).toEqual({
        description: "the db",
        "tag:team": "core",
        "tag:env": "prod",
      });
      await backend.put?.(ref, "two");
      const value = await backend.get(ref);
      expect(value.metadata).toMatchObject({
        description: "the db",
        tags: { team: "core", env: "prod" },
        version: "2",
      });
      expect(value.metadata.updatedAt).toBeInstanceOf(Date);
      await backend.put?.(ref, "three", { tags: { team: "ops" } });
      expect((await backend.get(ref)).metadata).toMatchObject({ tags: { team: "ops" } });
      expect((await backend.get(ref)).metadata.description).toBeUndefined();
    });

    it("KV v1 keeps description and tags as __description and __tags beside the value", async () => {
      await enable("mounts", "kv1", { type: "kv", options: { version: "1" } });
      const prefix = runPrefix("v1meta");
      const backend = make({ mount: "kv1", kvVersion: 1, prefix });
      const ref = { namespace: "m", key: "K" };
      await backend.put?.(ref, "one", { description: "d", tags: { a: "1" } });
      await backend.put?.(ref, "two");
      const raw = await sys<{ data: unknown }>("GET", `kv1/${prefix}/_/m/K`);
      expect(raw.data).toEqual({ value: "two", __description: "d", __tags: { a: "1" } });
      expect((await backend.list?.("m"))?.[0]?.metadata).toEqual({ description: "d", tags: { a: "1" } });
      expect(backend.capabilities.versions).toBe(false);
      await expect(backend.get(ref, { version: "1" })).rejects.toBeInstanceOf(ConfigurationError);
    });

    it("reads a path another tool wrote without 'value' as InvalidSecretValueError, not as a value", async () => {
      const prefix = runPrefix("foreign");
      await sys("POST", `secret/data/${prefix}/_/x/K`, { data: { user: "u", password: "p" } });
      const error = await make({ prefix })
        .get({ namespace: "x", key: "K" })
        .catch((e: unknown) => e);
      expect((error as Error).name).toBe("InvalidSecretValueError");
      expect((error as Error).message).not.toContain('"p"');
    });

    it("a soft-deleted current version is SecretDisabledError, not not-found", async () => {
      const prefix = runPrefix("soft");
      const backend = make({ prefix });
      await backend.put?.({ namespace: "s", key: "K" }, "v");
      await sys("DELETE", `secret/data/${prefix}/_/s/K`);
      await expect(backend.get({ namespace: "s", key: "K" })).rejects.toBeInstanceOf(SecretDisabledError);
    });

    it("rejects a version that is not a positive integer before any call", async () => {
      await expect(make().get({ namespace: "v", key: "K" }, { version: "latest" })).rejects.toBeInstanceOf(
        InvalidReferenceError,
      );
    });
  });

  describe("getMany", () => {
    it("reads a batch of 45 (5 missing) with at most `concurrency` requests in flight", async () => {
      const inner = await createVaultClient({
        endpoint,
        namespace: undefined,
        token: rootToken,
        requestTimeoutMs: 10_000,
        caCert: undefined,
      });
      let inFlight = 0;
      let peak = 0;
      const client = new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop !== "read") return Reflect.get(target, prop, receiver);
          return async (...args: Parameters<VaultClient["read"]>) => {
            peak = Math.max(peak, ++inFlight);
            try {
              return await target.read(...args);
            } finally {
              inFlight--;
            }
          };
        },
      });
      const backend = make({ client, concurrency: 8 });
      const refs: SecretRef[] = Array.from({ length: 45 }, (_, i) => ({ namespace: "batch", key: `K${i}` }));
      for (const ref of refs.slice(0, 40)) await backend.put?.(ref, `value-${ref.key}`);
      const result = await backend.getMany?.(refs);
      expect(result?.size).toBe(45);
      for (const [i, ref] of refs.entries()) {
        const got = result?.get(ref);
        if (i < 40) expect((got as SecretValue).reveal()).toBe(`value-K${i}`);
        else expect(got).toBeInstanceOf(SecretNotFoundError);
      }
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(8);
    });

    it("puts an invalid ref's InvalidReferenceError in the map instead of rejecting", async () => {
      const bad = { namespace: "x", key: "no/slash" };
      const result = await make().getMany?.([bad]);
      expect(result?.get(bad)).toBeInstanceOf(InvalidReferenceError);
    });
  });

  describe("list", () => {
    it("lists past 100 keys (Vault's LIST has no paging), sorted, without sub-namespaces", async () => {
      const backend = make();
      const keys = Array.from({ length: 120 }, (_, i) => `KEY_${String(i).padStart(3, "0")}`);
      await Promise.all(
        keys.map((key) => backend.put?.({ namespace: "many", key }, "v", { tags: { i: key } })),
      );
      await backend.put?.({ namespace: "many.child", key: "NESTED" }, "v");
      const listed = (await backend.list?.("many")) ?? [];
      expect(listed.map((l) => l.key)).toEqual([...keys].sort());
      expect(listed[7]?.metadata.tags).toEqual({ i: "KEY_007" });
    });

    it("lists an empty or unknown namespace as []", async () => {
      expect(await make().list?.("nothing.here")).toEqual([]);
    });
  });

  describe("delete", () => {
    it("removes every version, so a put afterwards starts again at version 1", async () => {
      const backend = make();
      const ref = { namespace: "d", key: "K" };
      await backend.put?.(ref, "a");
      await backend.put?.(ref, "b");
      await backend.delete?.(ref);
      await expect(backend.get(ref, { version: "1" })).rejects.toBeInstanceOf(SecretNotFoundError);
      await backend.put?.(ref, "c");
      const value = await backend.get(ref);
      expect(value.reveal()).toBe("c");
      expect(value.metadata.version).toBe("1");
    });

    it("deleting a missing secret is SecretNotFoundError although Vault answers 204", async () => {
      await expect(make().delete?.({ namespace: "d", key: "NEVER" })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    });
  });

  describe("check-and-set", () => {
    it("creates with version 0, updates with the current version, and refuses a stale one", async () => {
      const backend = make();
      const ref = { namespace: "cas", key: "K" };
      await backend.putWithCas(ref, "first", 0);
      await expect(backend.putWithCas(ref, "again", 0)).rejects.toBeInstanceOf(CheckAndSetConflictError);
      await backend.putWithCas(ref, "second", 1);
      const conflict = await backend.putWithCas(ref, "stale", 1).catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(CheckAndSetConflictError);
      expect((conflict as Error).name).toBe("CheckAndSetConflictError");
      expect((await backend.get(ref)).reveal()).toBe("second");
    });

    it("on a cas_required mount, a plain put says to use putWithCas", async () => {
      await enable("mounts", "kvcas", { type: "kv", options: { version: "2" } });
      await sys("POST", "kvcas/config", { cas_required: true });
      const backend = make({ mount: "kvcas" });
      const error = await backend.put?.({ namespace: "c", key: "K" }, "v").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain("putWithCas");
      await backend.putWithCas({ namespace: "c", key: "K" }, "v", 0);
    });
  });

  describe("read-only mode", () => {
    const root = runPrefix("ro");
    beforeAll(async () => {
      await sys("POST", `secret/data/${root}/company/team/api`, {
        data: { TOKEN: "t0k", USER: "bot", port: 5432 },
      });
      await sys("POST", `secret/metadata/${root}/company/team/api`, {
        custom_metadata: { owner: "platform" },
      });
      await sys("POST", `secret/data/${root}/company/team/sub/deeper`, { data: { X: "1" } });
      await sys("POST", `secret/data/${root}-t/acme/company/api`, { data: { TOKEN: "tenant-token" } });
    });

    it("returns the whole data object as JSON so sub-keys resolve", async () => {
      const backend = make({ prefix: undefined, readOnlyPath: root });
      const value = await backend.get({ namespace: "company.team", key: "api" });
      expect(JSON.parse(value.reveal())).toEqual({ TOKEN: "t0k", USER: "bot", port: 5432 });
      expect(value.metadata.tags).toEqual({ owner: "platform" });
    });

    it("never writes: no put or delete, putWithCas is ReadOnlyError, capabilities say so", async () => {
      const backend = make({ prefix: undefined, readOnlyPath: root });
      expect(backend.capabilities.write).toBe(false);
      expect(backend.put).toBeUndefined();
      expect(backend.delete).toBeUndefined();
      await expect(backend.putWithCas({ namespace: "x", key: "K" }, "v", 0)).rejects.toBeInstanceOf(
        ReadOnlyError,
      );
    });

    it("lists the paths of a namespace, not its sub-folders", async () => {
      const backend = make({ prefix: undefined, readOnlyPath: root });
      expect((await backend.list?.("company.team"))?.map((l) => l.key)).toEqual(["api"]);
    });

    it("maps a tenant through {tenant} and refuses a tenant without it", async () => {
      const tenanted = make({ prefix: undefined, readOnlyPath: `${root}-t/{tenant}` });
      const value = await tenanted.get({ tenant: "acme", namespace: "company", key: "api" });
      expect(JSON.parse(value.reveal())).toEqual({ TOKEN: "tenant-token" });
      await expect(tenanted.get({ namespace: "company", key: "api" })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
      const plain = make({ prefix: undefined, readOnlyPath: root });
      await expect(
        plain.get({ tenant: "acme", namespace: "company.team", key: "api" }),
      ).rejects.toBeInstanceOf(ConfigurationError);
    });
  });

  describe("Vault namespaces (X-Vault-Namespace)", () => {
    it("reads and writes inside the namespace only", async (t) => {
      const ns = `kw${Date.now().toString(36)}`;
      // OpenBao and Vault Enterprise have namespaces; Vault's free edition (Docker image) does not.
      const created = await sys("POST", `sys/namespaces/${ns}`, {}).then(
        () => true,
        () => false,
      );
      if (!created) t.skip();
      await fetch(`${endpoint}/v1/sys/mounts/secret`, {
        method: "POST",
        headers: { "x-vault-token": rootToken, "x-vault-namespace": ns },
        body: JSON.stringify({ type: "kv", options: { version: "2" } }),
      });
      const prefix = runPrefix("ns");
      const inside = make({ prefix, namespace: ns });
      await inside.put?.({ namespace: "n", key: "K" }, "inside");
      expect((await inside.get({ namespace: "n", key: "K" })).reveal()).toBe("inside");
      await expect(make({ prefix }).get({ namespace: "n", key: "K" })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
      const raw = await sys<{ data: { data: unknown } }>("GET", `${ns}/secret/data/${prefix}/_/n/K`);
      expect(raw.data.data).toEqual({ value: "inside" });
    });
  });

  describe("status mapping", () => {
    it("a missing mount is ConfigurationError, never not-found", async () => {
      await expect(make({ mount: "no-such-mount" }).get({ namespace: "", key: "K" })).rejects.toBeInstanceOf(
        ConfigurationError,
      );
    });

    it("kvVersion 1 against a KV v2 mount is ConfigurationError, never not-found or an empty list", async () => {
      const backend = make({ kvVersion: 1 });
      await expect(backend.get({ namespace: "", key: "K" })).rejects.toBeInstanceOf(ConfigurationError);
      await expect(backend.list?.("")).rejects.toBeInstanceOf(ConfigurationError);
    });

    it("403 (a token without the policy) is AccessDeniedError", async () => {
      const { auth } = await sys<{ auth: { client_token: string } }>("POST", "auth/token/create", {
        policies: ["default"],
        ttl: "5m",
      });
      const backend = make({ auth: { method: "token", token: auth.client_token } });
      await expect(backend.get({ namespace: "", key: "K" })).rejects.toBeInstanceOf(AccessDeniedError);
      await expect(backend.list?.("")).rejects.toBeInstanceOf(AccessDeniedError);
    });

    it("connection refused is BackendUnavailableError", async () => {
      const backend = createVaultBackend({
        endpoint: "http://127.0.0.1:9",
        auth: rootAuth,
        requestTimeoutMs: 2000,
      });
      await expect(backend.get({ namespace: "", key: "K" })).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    it("an aborted signal stops the request with BackendUnavailableError", async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(
        make().get({ namespace: "", key: "K" }, { signal: controller.signal }),
      ).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    // Needs a local OpenBao to seal (not the shared one, nor an external KEYWAY_TEST_OPENBAO_ENDPOINT).
    describe.runIf(isInstalled("openbao"))("a sealed server", () => {
      let sealed: Awaited<ReturnType<typeof startServer>> | undefined;
      beforeAll(async () => {
        sealed = await startServer("openbao");
        await fetch(`${sealed.endpoint}/v1/sys/seal`, {
          method: "PUT",
          headers: { "x-vault-token": "root" },
        });
      });
      afterAll(async () => {
        await sealed?.stop();
      });

      it("answers 503, which is BackendUnavailableError (retryable), not denied or not-found", async () => {
        const backend = createVaultBackend({ endpoint: sealed?.endpoint, auth: rootAuth });
        const error = await backend.get({ namespace: "", key: "K" }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendUnavailableError);
        expect((error as Error).message).toContain("503");
      });
    });
  });

  it("values stay masked in every printed form", async () => {
    const backend = make();
    await backend.put?.({ namespace: "mask", key: "K" }, "super-secret-value");
    const value = await backend.get({ namespace: "mask", key: "K" });
    expect(value).toBeInstanceOf(SecretValue);
    expect(String(value)).not.toContain("super-secret-value");
  });
});
