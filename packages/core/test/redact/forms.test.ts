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

describe("trust issue #18 point 4: forms users' tools print", () => {
  const quiet = { onWarning: () => {} };
  const pemBody = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37 + 11) % 256)).toString("base64");
  const pem = `-----BEGIN PRIVATE KEY-----\n${pemBody.match(/.{1,64}/g)?.join("\n")}\n-----END PRIVATE KEY-----\n`;
  const serviceAccount = JSON.stringify(
    { type: "service_account", private_key: pem, client_email: "etl@proj-1.iam.gserviceaccount.com" },
    null,
    2,
  );

  it("point 4: the lines of a multi-line JSON leaf are masked as the lines of a top-level value are", () => {
    const redactor = createRedactor(quiet);
    redactor.register(serviceAccount);
    // The PEM key of a service-account JSON, logged line by line, indented.
    for (const line of pem.trim().split("\n")) expect(redactor.redact(`    ${line}`)).toBe("    ******");
  });

  it("point 4: a JSON leaf holding JSON text gets the forms of a top-level value, lines included", () => {
    const redactor = createRedactor(quiet);
    redactor.register(JSON.stringify({ data: { credentials: serviceAccount } }));
    for (const line of pem.trim().split("\n")) expect(redactor.redact(`\t${line}\r`)).toBe("\t******\r");
    expect(redactor.redact("etl@proj-1.iam.gserviceaccount.com")).toBe("******");
  });

  it("point 4: every line of the base64 wrapped at 76 and 64 columns, of the value and of value+\\n", () => {
    const value = JSON.stringify({
      user: "svc_etl",
      password: "Zq8!x/Pf<2&k>é9_Lm",
      host: "db.internal:5432",
    });
    const redactor = createRedactor(quiet);
    redactor.register(value);
    for (const input of [value, `${value}\n`]) {
      const base64 = Buffer.from(input).toString("base64");
      for (const width of [76, 64]) {
        const lines = base64.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
        expect(lines.length).toBeGreaterThan(1);
        // java.util.Base64.getMimeEncoder() ends its lines with \r\n.
        const log = lines.map((line) => `INFO  [main] ${line}\r\n`).join("");
        expect(redactor.redact(log)).toBe("INFO  [main] ******\r\n".repeat(lines.length));
      }
    }
  });

  it("point 4: a last partial line of 12 characters or more is masked, a shorter one left", () => {
    const redactor = createRedactor(quiet);
    // 65 bytes: one full 76-column line, then 8 bytes in 12 characters; 62 bytes: then 5 in 8.
    const long = "p".repeat(65);
    const short = "s".repeat(62);
    redactor.register(long);
    redactor.register(short);
    const [full, tail] =
      Buffer.from(long)
        .toString("base64")
        .match(/.{1,76}/g) ?? [];
    expect(tail).toHaveLength(12);
    expect(redactor.redact(`  ${full}\n  ${tail}\n`)).toBe("  ******\n  ******\n");
    const [fullShort, tailShort] =
      Buffer.from(short)
        .toString("base64")
        .match(/.{1,76}/g) ?? [];
    expect(tailShort).toHaveLength(8);
    expect(redactor.redact(`  ${fullShort}\n  ${tailShort}\n`)).toBe(`  ******\n  ${tailShort}\n`);
  });

  it("point 4: Go's encoding/json escapes: \\u003c \\u003e \\u0026 \\u2028 \\u2029", () => {
    const { encoded } = derivedForms("a<b>&c\u2028d\u2029e");
    expect(encoded).toContain("a\\u003cb\\u003e\\u0026c\\u2028d\\u2029e");
  });

  it("point 4: Python's json.dumps default: \\uXXXX (lower case) for non-ASCII and DEL, surrogate pairs", () => {
    const { encoded } = derivedForms('pé"ß😀\u007f/x');
    expect(encoded).toContain('p\\u00e9\\"\\u00df\\ud83d\\ude00\\u007f/x');
  });

  // PHP is not installed here: its documented json_encode output, written out.
  it("point 4: PHP's json_encode: \\/ for a slash, \\uXXXX for non-ASCII; also with JSON_UNESCAPED_UNICODE", () => {
    const { encoded } = derivedForms("http://é.example/😀");
    expect(encoded).toContain("http:\\/\\/\\u00e9.example\\/\\ud83d\\ude00");
    expect(encoded).toContain("http:\\/\\/é.example\\/😀");
  });

  // PHP 7.1+ escapes U+2028 and U+2029 even with JSON_UNESCAPED_UNICODE; with
  // JSON_UNESCAPED_SLASHES, non-ASCII alone. Each encoder is one choice per axis, all combined.
  it("point 4: the JSON escapes combine: `\\/`, `<>&`, and U+2028 / all non-ASCII / all but printable ASCII", () => {
    const { encoded } = derivedForms("a/<é\u2028");
    for (const form of [
      "a\\/<é\\u2028", // PHP, JSON_UNESCAPED_UNICODE
      "a/<\\u00e9\\u2028", // PHP, JSON_UNESCAPED_SLASHES; Python
      "a\\/<\\u00e9\\u2028", // PHP
      "a/\\u003cé\\u2028", // Go
      "a\\/\\u003c\\u00e9\\u2028",
    ])
      expect(encoded).toContain(form);
  });

  it("point 4: lower-case percent-encoding, and + for a space, in each encoder's set of kept characters", () => {
    const value = "a/b c!d*e~f'(g)";
    const { encoded } = derivedForms(value);
    for (const form of [
      "a%2Fb%20c!d*e~f'(g)", // encodeURIComponent
      "a%2fb%20c!d*e~f'(g)",
      "a%2fb+c!d*e~f'(g)",
      "a%2Fb+c%21d*e%7Ef%27%28g%29", // URLSearchParams, Java's URLEncoder
      "a%2fb+c%21d*e%7ef%27%28g%29",
      "a%2Fb%20c%21d%2Ae~f%27%28g%29", // RFC 3986 unreserved: Python quote(safe=''), PHP rawurlencode
      "a%2fb+c%21d%2ae~f%27%28g%29", // Go's url.QueryEscape, lower case
      "a/b%20c%21d%2Ae~f%27%28g%29", // Python's quote: `/` kept
    ])
      expect(encoded).toContain(form);
  });
});
