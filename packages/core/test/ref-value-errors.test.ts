import { inspect } from "node:util";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  MultipleSecretsError,
  namespaceChain,
  networkDetail,
  SecretNotFoundError,
  SecretValue,
  sanitizeCause,
  validateRef,
  worstError,
} from "../src/internal.js";

describe("reference grammar", () => {
  it("accepts keys, namespaces and tenants inside the grammar", () => {
    expect(validateRef({ namespace: "", key: "A" })).toEqual({ namespace: "", key: "A" });
    expect(validateRef({ namespace: "company.team-1.x_y", key: "a-B_9", tenant: "acme-2" })).toMatchObject({
      tenant: "acme-2",
    });
    expect(() => validateRef({ namespace: "a", key: "K".repeat(255) })).not.toThrow();
    expect(() => validateRef({ namespace: `${"a.".repeat(74)}ab`, key: "K" })).not.toThrow();
  });

  it.each([
    ["traversal", { namespace: "a..b", key: "K" }],
    ["slash", { namespace: "a/b", key: "K" }],
    ["backslash", { namespace: "a", key: "K\\x" }],
    ["percent-encoded slash", { namespace: "a%2Fb", key: "K" }],
    ["leading dot", { namespace: ".a", key: "K" }],
    ["trailing dot", { namespace: "a.", key: "K" }],
    ["whitespace", { namespace: "a", key: "K " }],
    ["NUL", { namespace: "a", key: "K\u0000" }],
    ["Cyrillic look-alike", { namespace: "a", key: "\u0410PI" }],
    ["fullwidth look-alike", { namespace: "ａ", key: "K" }],
    ["overlong key", { namespace: "a", key: "K".repeat(256) }],
    ["overlong namespace", { namespace: "a".repeat(151), key: "K" }],
    ["empty key", { namespace: "a", key: "" }],
    ["upper-case tenant", { namespace: "a", key: "K", tenant: "Acme" }],
    ["tenant starting with -", { namespace: "a", key: "K", tenant: "-acme" }],
    ["empty tenant", { namespace: "a", key: "K", tenant: "" }],
    ["non-string key", { namespace: "a", key: 1 }],
  ])("rejects %s with InvalidReferenceError", (_, ref) => {
    expect(() => validateRef(ref)).toThrow(InvalidReferenceError);
  });

  it("never echoes control characters of bad input in its message", () => {
    const error = (() => {
      try {
        validateRef({ namespace: "a", key: "K\u001b[31m" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain("\u001b");
  });

  it("any string outside the grammar is rejected (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (key) => {
        const valid = /^[A-Za-z0-9_-]{1,255}$/.test(key);
        if (valid) expect(() => validateRef({ namespace: "", key })).not.toThrow();
        else expect(() => validateRef({ namespace: "", key })).toThrow(/Invalid secret key/);
      }),
      { numRuns: 500 },
    );
  });

  it("namespaceChain climbs to the root", () => {
    expect(namespaceChain("a.b.c")).toEqual(["a.b.c", "a.b", "a", ""]);
    expect(namespaceChain("")).toEqual([""]);
  });
});

describe("SecretValue is masked by construction", () => {
  const value = SecretValue.fromText("hunter2-hunter2", { description: "d" });
  it("String, template literals, JSON and util.inspect show only the mask", () => {
    expect(String(value)).toBe("******");
    expect(`${value}`).toBe("******");
    expect(JSON.stringify({ value })).toBe('{"value":"******"}');
    expect(inspect(value)).toBe("SecretValue(******)");
    expect(inspect({ deep: { value } }, { depth: 5, showHidden: true })).not.toContain("hunter2");
  });
  it("reveal gives the plaintext; binary secrets give bytes", () => {
    expect(value.reveal()).toBe("hunter2-hunter2");
    const bytes = SecretValue.fromBytes(new Uint8Array([0xff, 0x00, 0x10]));
    expect(bytes.isBinary).toBe(true);
    expect([...bytes.revealBytes()]).toEqual([0xff, 0x00, 0x10]);
    expect(() => bytes.reveal()).toThrow(TypeError);
  });
});

describe("errors", () => {
  it("have fixed names and codes, and no exit code (the CLI maps codes to exit codes)", () => {
    const e = new SecretNotFoundError("K", { backend: "env" });
    expect([e.name, e.code, e.backend, e.message]).toEqual([
      "SecretNotFoundError",
      "NOT_FOUND",
      "env",
      "Cannot find secret for key 'K'.",
    ]);
    expect("exitCode" in e).toBe(false);
    expect(worstError([e, new AccessDeniedError("x"), new InvalidReferenceError("y")])?.code).toBe(
      "ACCESS_DENIED",
    );
    expect(worstError([e, new BackendUnavailableError("x"), new AccessDeniedError("x")])?.code).toBe(
      "UNAVAILABLE",
    );
  });

  it("sanitize SDK causes: no request options, headers or credentials survive (node-vault #50, #124)", () => {
    const sdkError = Object.assign(
      new Error("permission denied; X-Vault-Token: hvs.ABCDEFGHIJKLMNOPQRSTUVWXYZ123456"),
      {
        statusCode: 403,
        options: { headers: { "X-Vault-Token": "hvs.ABCDEFGHIJKLMNOPQRSTUVWXYZ123456" } },
        response: { body: { errors: ["permission denied"] }, statusCode: 403 },
      },
    );
    const wrapped = new AccessDeniedError("Vault denied the read.", { backend: "vault", cause: sdkError });
    const printed = [
      String(wrapped),
      JSON.stringify(wrapped),
      inspect(wrapped, { depth: 10, showHidden: true }),
    ].join();
    expect(printed).not.toContain("hvs.ABCDEF");
    expect((wrapped.cause as { status?: number }).status).toBe(403);
    expect(sanitizeCause(new Error("Authorization: Bearer abc.def.ghi")).message).not.toContain("abc.def");
    expect(sanitizeCause(new Error("value was s3cr3t!"), ["s3cr3t!"]).message).toBe("value was ******");
  });
});

describe("sanitizeCause keeps only identifier-like names and codes", () => {
  it("drops a name or code that carries a credential (AWS backend finding)", () => {
    const leaky = Object.assign(new Error("boom"), {
      name: "Bad key wJalrXUtnFEMI/K7MDENG",
      code: "wJalrXUtnFEMI/K7MDENG",
    });
    const cause = sanitizeCause(leaky, ["wJalrXUtnFEMI/K7MDENG"]);
    expect(inspect(cause, { showHidden: true })).not.toContain("wJalrXUtnFEMI");
    const normal = sanitizeCause(
      Object.assign(new Error("x"), { name: "ThrottlingException", code: "Throttling" }),
    );
    expect([normal.name, (normal as { code?: string }).code]).toEqual(["ThrottlingException", "Throttling"]);
  });
});

// CLI issue #20 point 3: "No rule serves namespace" appeared once per reference in one message.
describe("MultipleSecretsError says each distinct reason once", () => {
  it("counts repeated reasons instead of repeating them", () => {
    const noRule = () =>
      new ConfigurationError("No rule serves namespace 'other.team': add one to 'namespaces'.");
    const error = new MultipleSecretsError([noRule(), noRule(), new SecretNotFoundError("X")]);
    expect(error.message.match(/No rule serves/g)).toHaveLength(1);
    expect(error.message).toContain("(2 references)");
    expect(error.message).toContain("Cannot find secret for key 'X'.");
    expect(error.errors).toHaveLength(3);
  });
});

describe("networkDetail keeps only the errno code and the address", () => {
  it("reads Node's fields, a cause chain, an AggregateError and gRPC's text", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8200"), {
      code: "ECONNREFUSED",
      address: "127.0.0.1",
      port: 8200,
    });
    expect(networkDetail(refused)).toBe("ECONNREFUSED 127.0.0.1:8200");
    expect(networkDetail(new Error("fetch failed", { cause: refused }))).toBe("ECONNREFUSED 127.0.0.1:8200");
    expect(networkDetail(new AggregateError([refused], ""))).toBe("ECONNREFUSED 127.0.0.1:8200");
    const grpc = Object.assign(new Error("14 UNAVAILABLE: No connection established"), {
      details: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:8085 (token=abc)",
    });
    expect(networkDetail(grpc)).toBe("ECONNREFUSED 127.0.0.1:8085");
    expect(
      networkDetail(Object.assign(new Error("x"), { code: "ENOTFOUND", hostname: "vault.internal" })),
    ).toBe("ENOTFOUND vault.internal");
    expect(networkDetail(new Error("SECRET_VALUE hunter2"))).toBeUndefined();
  });
});
