import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../../src/errors.js";
import { createRedactor } from "../../src/redact/index.js";
import { SecretValue } from "../../src/value.js";
import { referenceRedact } from "./reference.js";
import { maskedForms, secretsAndText } from "./scenarios.js";

const quiet = { onWarning: () => {} };

describe("redact() with random secrets and their forms", () => {
  it("leaves no form of 8+ characters, agrees with the naive reference, and leaves secret-free text unchanged", () => {
    fc.assert(
      fc.property(secretsAndText, ([values, text]) => {
        const redactor = createRedactor(quiet);
        for (const v of values) redactor.register(v);
        const forms = maskedForms(values);
        const out = redactor.redact(text);
        for (const form of forms) if (form.length >= 8) expect(out).not.toContain(form);
        const expected = referenceRedact(forms, text, 8);
        expect(out).toBe(expected);
        if (expected === text) expect(out).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves text without secrets unchanged", () => {
    const redactor = createRedactor();
    redactor.register("a-registered-secret");
    const text = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 300 }));
    fc.assert(
      fc.property(text, (t) => {
        fc.pre(!t.includes("a-registered-secret"));
        expect(redactor.redact(t)).toBe(t);
      }),
    );
  });
});

describe("short-secret policy", () => {
  // GitHub runner #326: a multi-line JSON secret split into lines registered `{` and `}`, and
  // every `e` and `f` of the log was masked through their base64 (`ew==`, `fQ==`).
  it("GitHub runner #326: 1- to 3-character forms are never masked, and a warning names the key", () => {
    const warnings: string[] = [];
    const redactor = createRedactor({ onWarning: (m) => warnings.push(m) });
    redactor.register("{\n}", { key: "TEST_JSON" });
    redactor.register("ab1", { key: "TINY" });
    const log = "echo {} ew== fQ== ab1 YWIx effect";
    expect(redactor.redact(log)).toBe(log);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain("'TEST_JSON'");
    expect(warnings[1]).toContain("'TINY'");
    expect(warnings.join()).not.toMatch(/ab1|\{\n\}/);
  });

  it("masks 4- to 7-character values only as whole words, and not their short encodings", () => {
    const redactor = createRedactor(quiet);
    redactor.register("s3cr");
    expect(redactor.redact("s3cr, (s3cr) xs3cr s3cry s3cr_")).toBe("******, (******) xs3cr s3cry s3cr_");
    expect(redactor.redact("czNjcg")).toBe("czNjcg"); // unpadded base64 of s3cr: 6 characters, never masked
  });

  it("masks an encoded form of 8 characters or more anywhere, even for a short value", () => {
    const redactor = createRedactor(quiet);
    redactor.register("s3cr");
    expect(redactor.redact("x73336372x czNjcg==")).toBe("x******x ******"); // hex and padded base64 of s3cr
  });

  it("warns through process.emitWarning by default", () => {
    const spy = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    createRedactor().register("ab", { key: "K" });
    expect(spy).toHaveBeenCalledWith(
      expect.stringContaining("'K'"),
      expect.objectContaining({ code: "KEYWAY_SHORT_SECRET" }),
    );
    spy.mockRestore();
  });

  it("applies configured thresholds", () => {
    const redactor = createRedactor({ minLength: 2, anywhereLength: 4, ...quiet });
    redactor.register("ab");
    redactor.register("wxyz");
    expect(redactor.redact("ab cab awxyzb")).toBe("****** cab a******b");
  });
});

describe("registration", () => {
  // Kestra #10526: an empty secret broke log masking.
  it("Kestra #10526: never registers an empty value", () => {
    const redactor = createRedactor();
    redactor.register("");
    redactor.register(SecretValue.fromText(""));
    expect(redactor.size).toBe(0);
    expect(redactor.redact("any text")).toBe("any text");
  });

  // Kestra #8131: a mask as long as the secret told its length.
  it("Kestra #8131: the mask is fixed, whatever the secret's length", () => {
    const redactor = createRedactor();
    redactor.register("12345678");
    redactor.register("x".repeat(40));
    expect(redactor.redact(`a=12345678 b=${"x".repeat(40)}`)).toBe("a=****** b=******");
    const custom = createRedactor({ mask: "[REDACTED]" });
    custom.register("12345678");
    expect(custom.redact("a=12345678")).toBe("a=[REDACTED]");
  });

  it("registers SecretValues, text or binary", () => {
    const redactor = createRedactor();
    redactor.register(SecretValue.fromText("text-secret-value"));
    redactor.register(SecretValue.fromBytes(new Uint8Array([0xff, 0x00, 0xfe, 0x01, 0x80, 0x7f])));
    expect(redactor.redact("text-secret-value ff00fe01807f /wD+AYB/")).toBe("****** ****** ******");
    expect(redactor.size).toBe(2);
  });

  it("counts each distinct value once", () => {
    const redactor = createRedactor();
    redactor.register("same-value-1");
    redactor.register(SecretValue.fromText("same-value-1"));
    expect(redactor.size).toBe(1);
  });

  it("masks the lines and JSON leaves of a value, not excluded ones", () => {
    const redactor = createRedactor();
    redactor.register(JSON.stringify({ user: "admin", password: "hunter2-pw" }), {
      excludeJsonKeys: ["user"],
    });
    expect(redactor.redact("login admin / hunter2-pw")).toBe("login admin / ******");
    redactor.register("line-one-secret\nline-two-secret");
    expect(redactor.redact("got line-two-secret")).toBe("got ******");
  });

  it("rejects options that cannot work", () => {
    expect(() => createRedactor({ minLength: 1 })).toThrow(ConfigurationError);
    expect(() => createRedactor({ anywhereLength: 3 })).toThrow(ConfigurationError);
    expect(() => createRedactor({ maxValues: 0 })).toThrow(ConfigurationError);
    expect(() => createRedactor({ maxAgeMs: 0 })).toThrow(ConfigurationError);
    expect(() => createRedactor({ mask: "" })).toThrow(ConfigurationError);
  });

  it("keeps redactors independent (one per tenant)", () => {
    const a = createRedactor();
    const b = createRedactor();
    a.register("tenant-a-secret");
    expect(a.redact("tenant-a-secret")).toBe("******");
    expect(b.redact("tenant-a-secret")).toBe("tenant-a-secret");
  });
});

describe("retention", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("keeps a rotated-out value masked", () => {
    const redactor = createRedactor();
    redactor.register("password-v1", { key: "DB" });
    redactor.register("password-v2", { key: "DB" });
    expect(redactor.redact("old password-v1 new password-v2")).toBe("old ****** new ******");
  });

  it("drops the oldest values beyond maxValues; registering again makes a value the newest", () => {
    const redactor = createRedactor({ maxValues: 2 });
    redactor.register("first-secret");
    redactor.register("second-secret");
    redactor.register("first-secret"); // refreshed: second-secret is now the oldest
    redactor.register("third-secret");
    expect(redactor.size).toBe(2);
    expect(redactor.redact("first-secret second-secret third-secret")).toBe("****** second-secret ******");
  });

  it("keeps a form shared by two values until both are gone", () => {
    const redactor = createRedactor({ maxValues: 2 });
    redactor.register("shared-line\nfirst-only");
    redactor.register("shared-line\nsecond-only");
    redactor.register("unrelated-1");
    expect(redactor.redact("shared-line first-only second-only")).toBe("****** first-only ******");
  });

  it("drops values older than maxAgeMs, oldest first", () => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
    const redactor = createRedactor({ maxAgeMs: 1000 });
    redactor.register("early-secret");
    vi.setSystemTime(600);
    redactor.register("later-secret");
    vi.setSystemTime(1000);
    expect(redactor.redact("early-secret later-secret")).toBe("early-secret ******");
    expect(redactor.size).toBe(1);
    redactor.register("later-secret"); // refreshed at 1000
    vi.setSystemTime(1999);
    expect(redactor.redact("later-secret")).toBe("******");
    vi.setSystemTime(2000);
    expect(redactor.redact("later-secret")).toBe("later-secret");
    expect(redactor.size).toBe(0);
  });
});

describe("redactDeep", () => {
  const secretValue = "deep-secret-value";
  const redactor = createRedactor();
  redactor.register(secretValue);

  it("redacts nested records without modifying them", () => {
    const cause = new Error(`cause ${secretValue}`);
    const error = new TypeError(`failed with ${secretValue}`, { cause });
    Object.assign(error, { code: "E_X", detail: secretValue });
    const record = {
      msg: `user sent ${secretValue}`,
      list: [secretValue, 1, null, { inner: `x${secretValue}x` }],
      map: new Map([[secretValue, { v: secretValue }]]),
      set: new Set([secretValue]),
      sv: SecretValue.fromText("anything"),
      [`key-${secretValue}`]: true,
      error,
      date: new Date(0),
      [Symbol.for("sym")]: secretValue,
    };
    const before = JSON.stringify(record, (_k, v) => (v instanceof Map || v instanceof Set ? [...v] : v));
    const out = redactDeep(record);
    expect(JSON.stringify(record, (_k, v) => (v instanceof Map || v instanceof Set ? [...v] : v))).toBe(
      before,
    );
    expect(error.message).toContain(secretValue);

    expect(out.msg).toBe("user sent ******");
    expect(out.list).toEqual(["******", 1, null, { inner: "x******x" }]);
    expect([...out.map]).toEqual([["******", { v: "******" }]]);
    expect([...out.set]).toEqual(["******"]);
    expect(out.sv).toBe("******");
    expect(Object.keys(out)).toContain("key-******");
    expect(out[Symbol.for("sym")]).toBe("******");
    expect(out.date).toBe(record.date);
    expect(out.error).toBeInstanceOf(TypeError);
    expect(out.error.message).toBe("failed with ******");
    expect(out.error.stack).toContain("failed with ******");
    expect(out.error.stack).not.toContain(secretValue);
    expect((out.error.cause as Error).message).toBe("cause ******");
    expect((out.error.cause as Error).stack).not.toContain(secretValue);
    expect(out.error).toMatchObject({ code: "E_X", detail: "******" });
  });

  it("replaces SecretValues by the redactor's own mask", () => {
    const custom = createRedactor({ mask: "[hidden]" });
    expect(custom.redactDeep({ sv: SecretValue.fromText("x"), list: [SecretValue.fromText("y")] })).toEqual({
      sv: "[hidden]",
      list: ["[hidden]"],
    });
  });

  it("keeps cycles without looping", () => {
    const a: Record<string, unknown> = { s: secretValue };
    a.self = a;
    const out = redactDeep(a);
    expect(out.s).toBe("******");
    expect(out.self).toBe(out);
    expect(out).not.toBe(a);
  });

  it("copies objects with a toJSON as what they serialize to", () => {
    const url = new URL(`https://user:${secretValue}@example.com/`);
    expect(JSON.stringify(redactDeep({ url }))).toBe('{"url":"https://user:******@example.com/"}');
  });

  function redactDeep<T>(value: T): T {
    return redactor.redactDeep(value);
  }
});

describe("redactError", () => {
  // Kestra #18737: exception messages and stack traces printed secrets in clear.
  it("Kestra #18737: redacts message, stack and the cause chain in place", () => {
    const redactor = createRedactor();
    redactor.register("error-secret-1");
    const root = new Error("root error-secret-1");
    const middle = new Error("middle", { cause: root });
    const aggregate = new AggregateError([new Error("inner error-secret-1")], "many error-secret-1");
    const top = new Error("top error-secret-1", { cause: middle });
    Object.assign(middle, { extra: "error-secret-1" });
    (root as Error & { cause?: unknown }).cause = { detail: "error-secret-1" };

    expect(redactor.redactError(top)).toBe(top);
    expect(top.message).toBe("top ******");
    expect(top.stack).not.toContain("error-secret-1");
    expect(middle).toMatchObject({ extra: "******" });
    expect(root.message).toBe("root ******");
    expect(root.stack).not.toContain("error-secret-1");
    expect(root.cause).toEqual({ detail: "******" });

    redactor.redactError(aggregate);
    expect(aggregate.message).toBe("many ******");
    expect((aggregate.errors[0] as Error).message).toBe("inner ******");
  });

  it("survives a cause cycle", () => {
    const redactor = createRedactor();
    redactor.register("cycle-secret");
    const a = new Error("a cycle-secret");
    const b = new Error("b", { cause: a });
    (a as Error & { cause?: unknown }).cause = b;
    expect(redactor.redactError(a).message).toBe("a ******");
  });
});
