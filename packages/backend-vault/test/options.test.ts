// Options are checked eagerly (never echoing a credential); node-vault loads only on first use;
// the `type: vault` definition validates keyway.yaml options.
import { createRequire } from "node:module";
import { printedForms } from "@keyway/backend-test-suite";
import { ConfigurationError, InvalidReferenceError, InvalidSecretValueError } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { definition } from "../src/definition.js";
import { createVaultBackend, MAX_VALUE_BYTES, type VaultBackendOptions } from "../src/index.js";

const token = { method: "token" as const, token: "opt-test-token-4b2f" };
const fails = (options: VaultBackendOptions, env: Record<string, string> = {}) => {
  const error = (() => {
    try {
      createVaultBackend({ env, ...options });
    } catch (e) {
      return e;
    }
  })();
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as Error;
};

describe("createVaultBackend options", () => {
  it("does not load node-vault until the first call", async () => {
    const cache = createRequire(import.meta.url).cache;
    const loaded = () => Object.keys(cache).some((k) => k.includes(`${"node_modules"}/node-vault/`));
    createVaultBackend({ auth: token, env: {} });
    expect(loaded()).toBe(false);
    await import("node-vault"); // the detector works
    expect(loaded()).toBe(true);
  });

  it("refuses bad shapes with ConfigurationError naming the option, never the value", () => {
    const secretUrl = "https://user:hunter2-pass@vault.example.com";
    expect(printedForms(fails({ endpoint: secretUrl, auth: token }))).not.toContain("hunter2-pass");
    expect(fails({ endpoint: "ftp://vault", auth: token }).message).toContain("'endpoint'");
    expect(fails({ endpoint: "not a url", auth: token }).message).toContain("'endpoint'");
    expect(fails({ auth: token, kvVersion: 3 as 2 }).message).toContain("'kvVersion'");
    expect(fails({ auth: token, prefix: "a/../b" }).message).toContain("'prefix'");
    expect(fails({ auth: token, mount: "" }).message).toContain("'mount'");
    expect(fails({ auth: token, prefix: "p", readOnlyPath: "r" }).message).toContain("readOnlyPath");
    expect(fails({ auth: token, requestTimeoutMs: 0 }).message).toContain("'requestTimeoutMs'");
    expect(fails({ auth: token, concurrency: 0 }).message).toContain("'concurrency'");
    expect(fails({ auth: { method: "approle", roleId: "r", secretId: "" } }).message).toContain(
      "'auth.secretId'",
    );
    expect(fails({ auth: { method: "userpass", username: "a/../../sys", password: "p" } }).message).toContain(
      "'auth.username'",
    );
    expect(fails({ auth: { method: "kubernetes", role: "" } }).message).toContain("'auth.role'");
    expect(fails({ auth: { method: "ldap" } as never }).message).toContain("'auth.method'");
  });

  it("needs a token: from auth, else VAULT_TOKEN; an injected client brings its own", () => {
    expect(fails({}).message).toContain("VAULT_TOKEN");
    expect(fails({ auth: { method: "token" } }).message).toContain("VAULT_TOKEN");
    expect(createVaultBackend({ env: { VAULT_TOKEN: "t" } }).name).toBe("vault");
    expect(createVaultBackend({ env: {}, client: {} as never }).name).toBe("vault");
  });

  it("declares capabilities by mode and KV version", () => {
    const v2 = createVaultBackend({ auth: token, env: {} }).capabilities;
    expect(v2).toEqual({
      write: true,
      list: true,
      batch: false,
      versions: true,
      caseSensitiveKeys: true,
      maxValueBytes: MAX_VALUE_BYTES,
    });
    expect(createVaultBackend({ auth: token, env: {}, kvVersion: 1 }).capabilities.versions).toBe(false);
    expect(createVaultBackend({ auth: token, env: {}, readOnlyPath: "apps" }).capabilities.write).toBe(false);
  });

  it("checks refs and values before any call (the endpoint here does not exist)", async () => {
    const backend = createVaultBackend({ auth: token, env: {}, endpoint: "http://127.0.0.1:9" });
    await expect(backend.get({ namespace: "a", key: "../x" })).rejects.toBeInstanceOf(InvalidReferenceError);
    const big = "x".repeat(MAX_VALUE_BYTES + 1);
    const error = await backend.put?.({ namespace: "a", key: "K" }, big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(printedForms(error)).not.toContain("x".repeat(64));
    await expect(backend.put?.({ namespace: "a", key: "K" }, "bad \uD800 surrogate")).rejects.toBeInstanceOf(
      InvalidSecretValueError,
    );
    const tags = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`t${i}`, "v"]));
    await expect(backend.put?.({ namespace: "a", key: "K" }, "v", { tags })).rejects.toBeInstanceOf(
      InvalidSecretValueError,
    );
  });
});

describe("definition (type: vault)", () => {
  it("accepts keyway.yaml options and creates a backend named after its entry", () => {
    const parsed = definition.optionsSchema.safeParse({
      endpoint: "https://vault.example.com:8200",
      auth: { method: "approle", roleId: "r", secretId: "s", mount: "approle-prod" },
      mount: "kv",
      kvVersion: 2,
      prefix: "kestra",
      namespace: "team-a",
    });
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    const backend = definition.create(parsed.data, { name: "prod", env: {} });
    expect(backend.name).toBe("prod");
  });

  it("reports wrong options by path", () => {
    const bad = definition.optionsSchema.safeParse({
      auth: { method: "approle", roleId: "r" },
      kvVersion: 3,
      extra: 1,
    });
    expect(bad.success).toBe(false);
    if (bad.success) return;
    const paths = bad.error.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["auth.secretId", "kvVersion"]));
    expect(definition.optionsSchema.safeParse({ auth: { method: "ldap" } }).success).toBe(false);
  });
});
