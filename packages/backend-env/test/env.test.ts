import { inspect } from "node:util";
import { ConfigurationError, InvalidSecretValueError, SecretNotFoundError } from "@keyway/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createEnvBackend, decodeSecretValue, readEnvsVariables } from "../src/index.js";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const ref = (key: string) => ({ namespace: "company.team", key });
const get = (env: Record<string, string>, key: string, options = {}) =>
  createEnvBackend({ env, onWarning: () => {}, ...options }).get(ref(key));

describe("env backend: Kestra's SECRET_ variables", () => {
  it("reads SECRET_ variables, key without the prefix, lookup case-insensitive", async () => {
    const env = { SECRET_API_TOKEN: b64("t0ken"), OTHER: b64("nope") };
    expect((await get(env, "API_TOKEN")).reveal()).toBe("t0ken");
    expect((await get(env, "api_token")).reveal()).toBe("t0ken");
    await expect(get(env, "OTHER")).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("the prefix is case-sensitive: secret_x is not a secret", async () => {
    await expect(get({ secret_X: b64("v") }, "X")).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("ignores namespace and tenant (env secrets are global)", async () => {
    const backend = createEnvBackend({ env: { SECRET_K: b64("v") } });
    expect((await backend.get({ namespace: "a.b.c", tenant: "acme", key: "K" })).reveal()).toBe("v");
  });

  it("strips exactly Java's \\R line breaks before decoding (GNU base64 wraps at 76)", async () => {
    const value = "x".repeat(100);
    const wrapped = b64(value).replace(/(.{76})/g, "$1\r\n");
    expect((await get({ SECRET_W: wrapped }, "W")).reveal()).toBe(value);
    for (const br of ["\n", "\r", "\v", "\f", "\u0085", "\u2028", "\u2029"]) {
      expect(decodeSecretValue(`YW${br}Jj`)).toEqual({ ok: true, value: "abc" });
    }
  });

  it("accepts missing padding like Java's basic decoder, rejects a partial pad or padding in the middle", () => {
    expect(decodeSecretValue("YQ")).toEqual({ ok: true, value: "a" });
    expect(decodeSecretValue("YQ==")).toEqual({ ok: true, value: "a" });
    expect(decodeSecretValue("YWI")).toEqual({ ok: true, value: "ab" });
    expect(decodeSecretValue("YQ=").ok).toBe(false);
    expect(decodeSecretValue("YQ==YQ==").ok).toBe(false);
    expect(decodeSecretValue("Y").ok).toBe(false);
    expect(decodeSecretValue("YQ===").ok).toBe(false);
  });

  it.each([
    ["a space", "YWJj ZGVm"],
    ["a tab", "YWJj\tZGVm"],
    ["URL-safe '-'", "-_-_"],
    ["other junk", "YWJj!ZGVm"],
    ["a bad length", "YWJjZ"],
  ])("rejects %s with an invalid-value error naming the variable, never the value", async (_, raw) => {
    const error = await get({ SECRET_BAD: raw }, "BAD").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect((error as Error).message).toContain("SECRET_BAD");
    expect((error as Error).message).not.toContain(raw);
    expect(inspect(error)).not.toContain(raw);
  });

  it("plaintext that happens to be base64 ('password') fails with the UTF-8 hint (Kestra #19604)", async () => {
    const error = await get({ SECRET_DB: "password" }, "DB").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect((error as Error).message).toContain("was the value base64-encoded?");
    expect((error as Error).message).toContain("SECRET_DB");
  });

  it("an invalid entry does not stop the others", async () => {
    const env = { SECRET_BAD: "not base64!", SECRET_GOOD: b64("fine") };
    expect((await get(env, "GOOD")).reveal()).toBe("fine");
  });

  it("an empty value is an empty secret (Kestra #10526)", async () => {
    expect((await get({ SECRET_EMPTY: "" }, "EMPTY")).reveal()).toBe("");
  });

  it("SECRET_foo and SECRET_FOO both set: a configuration error naming both; other keys still resolve", async () => {
    const env = { SECRET_foo: b64("a"), SECRET_FOO: b64("b"), SECRET_OK: b64("ok") };
    const error = await get(env, "FOO").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("SECRET_foo");
    expect((error as Error).message).toContain("SECRET_FOO");
    expect((await get(env, "OK")).reveal()).toBe("ok");
    const warnings: string[] = [];
    const listed = (await createEnvBackend({ env, onWarning: (m) => warnings.push(m) }).list?.("")) ?? [];
    expect(listed.map((l) => l.key)).toEqual(["OK"]);
    expect(warnings.join()).toContain("SECRET_foo");
    expect(warnings.join()).toContain("SECRET_FOO");
  });

  it("encoding: raw serves plaintext as is (Kubernetes / External Secrets, Kestra #17844)", async () => {
    expect((await get({ SECRET_P: "plain text!" }, "P", { encoding: "raw" })).reveal()).toBe("plain text!");
  });

  it("is read-only", () => {
    const backend = createEnvBackend({ env: {} });
    expect(backend.capabilities.write).toBe(false);
    expect(backend.put).toBeUndefined();
  });

  it("round-trips any UTF-8 text through base64", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", maxLength: 200 }), async (value) => {
        expect((await get({ SECRET_X: b64(value) }, "X")).reveal()).toBe(value);
      }),
    );
  });

  it("envs: ENV_ variables, prefix stripped, lower-cased, not decoded", () => {
    expect(readEnvsVariables({ ENV_MY_VAR: "v", SECRET_X: "y", ENV_Other: "z" })).toEqual({
      my_var: "v",
      other: "z",
    });
    expect(readEnvsVariables({ KESTRA_A: "1" }, "KESTRA_")).toEqual({ a: "1" });
  });
});

describe("options", () => {
  it("a wrong prefix or encoding fails every call with ConfigurationError, naming the option, not its value", async () => {
    const backend = createEnvBackend({ env: { SECRET_K: "dg==" }, encoding: "hex-secretish" as never });
    const error = await backend.get({ namespace: "", key: "K" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("'encoding'");
    expect((error as Error).message).not.toContain("hex-secretish");
    await expect(createEnvBackend({ env: {}, prefix: "" }).list?.("")).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});
