import { describe, expect, it } from "vitest";
import { derivedForms } from "../../src/redact/forms.js";
import { createRedactor } from "../../src/redact/index.js";

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");
const urlSafe = (s: string) => s.replace(/\+/g, "-").replace(/\//g, "_");

describe("derived forms", () => {
  // "???" encodes to "Pz8/" and "~~~" to "fn5+": this value's base64 has both `/` and `+`.
  const value = "???~~~secret!";

  it("lists the value, hex in both cases, and the escaped forms", () => {
    const { plain, encoded } = derivedForms('p"w<&>\\x y');
    expect(plain).toEqual(['p"w<&>\\x y']);
    expect(encoded).toEqual(
      expect.arrayContaining([
        Buffer.from('p"w<&>\\x y').toString("hex"),
        Buffer.from('p"w<&>\\x y').toString("hex").toUpperCase(),
        'p\\"w<&>\\\\x y', // JSON string
        "p&quot;w&lt;&amp;&gt;\\x y", // XML
        "p%22w%3C%26%3E%5Cx%20y", // encodeURIComponent
        "p%22w%3C%26%3E%5Cx+y", // form encoding
      ]),
    );
  });

  it("lists standard, URL-safe, padded and unpadded base64, and the base64 of the value plus a newline", () => {
    const { encoded } = derivedForms(value);
    const standard = b64(value);
    expect(standard).toMatch(/[+/].*=$/);
    for (const form of [
      standard,
      standard.replace(/=+$/, ""),
      urlSafe(standard),
      urlSafe(standard).replace(/=+$/, ""),
    ]) {
      expect(encoded).toContain(form);
    }
    expect(encoded).toContain(b64(`${value}\n`));
  });

  it("never repeats a plain form among the encoded ones", () => {
    const { plain, encoded } = derivedForms("plainvalue123");
    expect(encoded).not.toContain("plainvalue123");
    expect(plain).toEqual(["plainvalue123"]);
  });

  it("adds each trimmed non-empty line of a multi-line value", () => {
    const { plain } = derivedForms(
      "-----BEGIN KEY-----\r\n  line-one-abc  \n\n line-two-def\n-----END KEY-----\n",
    );
    expect(plain).toEqual(
      expect.arrayContaining(["-----BEGIN KEY-----", "line-one-abc", "line-two-def", "-----END KEY-----"]),
    );
    expect(plain).not.toContain("");
  });

  it("adds each string leaf of a JSON value, except under excluded keys", () => {
    const json = JSON.stringify({
      user: "admin",
      password: "hunter2!",
      nested: { token: ["tok-1", { t: "tok-2" }] },
      n: 5,
    });
    expect(derivedForms(json).plain).toEqual([json, "admin", "hunter2!", "tok-1", "tok-2"]);
    expect(derivedForms(json, ["user", "nested"]).plain).toEqual([json, "hunter2!"]);
    expect(derivedForms("{not json").plain).toEqual(["{not json"]);
  });

  it("gives only byte encodings for a binary value", () => {
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const { plain, encoded } = derivedForms(bytes);
    expect(plain).toEqual([]);
    expect(encoded).toEqual(expect.arrayContaining(["fffe008041", "FFFE008041", b64(bytes)]));
  });
});

describe("base64 inside larger blobs", () => {
  const secret = "correct-horse-battery-staple";

  // GitHub runner #291: a secret whose base64 sits inside a longer base64 blob (a config file or
  // `user:password` encoded whole) was not masked, because the characters at its edges depend on
  // the bytes around it. Only the characters that encode the secret's own bytes are masked.
  it.each([
    [0, 3],
    [1, 4],
    [2, 5],
  ])("GitHub runner #291: masks the value's base64 at byte alignment %i inside a blob", (_align, before) => {
    const redactor = createRedactor();
    redactor.register(secret);
    for (const after of ["", "x", "xy", "xyz;more"]) {
      const blob = b64(`${"p".repeat(before)}${secret}${after}`);
      const out = redactor.redact(`data=${blob}`);
      // The characters decided by the bytes before the secret stay, then one mask, then at most the
      // characters that mix in the bytes after it.
      const kept = [4, 6, 7][before - 3] as number;
      expect(out.startsWith(`data=${blob.slice(0, kept)}******`)).toBe(true);
      const rest = out.slice(`data=${blob.slice(0, kept)}******`.length);
      expect(blob.endsWith(rest)).toBe(true);
      expect(rest.length).toBeLessThanOrEqual(16); // "xyz;more" is 8 bytes: 11 characters, 2 mixed, padding
      expect(blob.length - kept - rest.length).toBeGreaterThanOrEqual(36); // 28 bytes: 36 or 37 characters
    }
  });

  // actions/runner PR #2520: padding omitted from the base64 form, and URL-safe base64 (JWTs,
  // URLs), were never masked.
  it("PR #2520: masks unpadded and URL-safe base64", () => {
    const redactor = createRedactor();
    const value = "???~~~a-secret-value";
    redactor.register(value);
    const standard = b64(value);
    for (const form of [
      standard,
      standard.replace(/=+$/, ""),
      urlSafe(standard),
      urlSafe(standard).replace(/=+$/, ""),
    ]) {
      expect(redactor.redact(`jwt.${form}.sig`)).toBe("jwt.******.sig");
    }
  });

  it("masks the base64 of the value plus a newline (`echo` without `-n`)", () => {
    const redactor = createRedactor();
    redactor.register("hunter2-password");
    expect(redactor.redact(`Authorization: ${b64("hunter2-password\n")}`)).toBe("Authorization: ******");
  });

  it("masks hex in both cases and the escaped forms", () => {
    const redactor = createRedactor();
    const value = 'p@ss "word" <&> 100%';
    redactor.register(value);
    const hex = Buffer.from(value).toString("hex");
    for (const form of [
      hex,
      hex.toUpperCase(),
      JSON.stringify(value),
      "p@ss &quot;word&quot; &lt;&amp;&gt; 100%",
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
    ]) {
      expect(redactor.redact(`[${form}]`)).toMatch(/^\[("?)\*{6}\1\]$/);
    }
  });
});
