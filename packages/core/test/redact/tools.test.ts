/**
 * Trust issue #18 point 4: the forms users' tools print. Each tool on this machine is run with the
 * value on stdin, and its output, printed the way a log prints it (wrapped lines each behind a
 * logger's prefix or indented, with `\n` or `\r\n`), must come out of the redactor fully masked.
 */
import { generateKeyPairSync } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIN_WRAPPED_TAIL } from "../../src/redact/forms.js";
import { createRedactor } from "../../src/redact/index.js";
import type { Redactor } from "../../src/redact/types.js";
import { base64Tools, type Encoder, jsonTools, urlTools } from "./tools.js";

const MASK = "******";
const TOOL_TIMEOUT = 120_000;

const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({
  type: "pkcs8",
  format: "pem",
}) as string;
const serviceAccount = JSON.stringify(
  {
    type: "service_account",
    project_id: "keyway-test-417",
    private_key_id: "4c1a9f3e0b6d2e7a8c5f1b3d9e0a7c6b2d4f8e1a",
    private_key: pem,
    client_email: "etl-runner@keyway-test-417.iam.gserviceaccount.com",
    client_id: "104729384756102938475",
    token_uri: "https://oauth2.googleapis.com/token",
    universe_domain: "googleapis.com",
  },
  null,
  2,
);
const b64url = (s: string) => Buffer.from(s).toString("base64url");
const jwt = `${b64url('{"alg":"RS256","typ":"JWT"}')}.${b64url(
  '{"sub":"auth0|5f7c8ec7c33c6c004bbafe82","aud":"https://api.example.com","iat":1764979200}',
)}.${b64url("signature bytes: 256 of them in a real token, enough here to pass 57 bytes in all")}`;

/** Realistic and hostile values: over 57 bytes (wrapped base64), non-ASCII, astral, `<>&`, quotes. */
const REALISTIC: Record<string, string> = {
  "PEM key": pem,
  "service-account JSON": serviceAccount,
  JWT: jwt,
  "hostile password": `p@ss/wörd <&> "q" 'a' \\ 😀 ✓ \u2028 + = % ~ ! * ( ) end`,
  "database JSON": JSON.stringify({ username: "app_orders", password: "Zq8!x/Pf<2&k>é9_Lm", port: 5432 }),
};

function redactorOf(...values: string[]): Redactor {
  const redactor = createRedactor({ onWarning: () => {} });
  for (const value of values) redactor.register(value);
  return redactor;
}

const LAYOUTS = [
  { prefix: "2026-12-06T01:02:03.456Z INFO  [job-7] ", eol: "\n" },
  { prefix: "        ", eol: "\r\n" },
  { prefix: "", eol: "\n" },
];

/**
 * Prints wrapped tool output line by line behind `prefix`. Every line is masked whole, except a
 * last partial line under {@link MIN_WRAPPED_TAIL} characters.
 */
function expectWrappedMasked(redactor: Redactor, output: string, context: string): void {
  const lines = output.split("\n");
  expect(lines.pop(), context).toBe("");
  for (const { prefix, eol } of LAYOUTS) {
    const log = lines.map((line) => `${prefix}${line}${eol}`).join("");
    const out = redactor.redact(log).split(eol);
    out.pop();
    expect(out.length, context).toBe(lines.length);
    lines.forEach((line, i) => {
      const allowed =
        line.length >= MIN_WRAPPED_TAIL ? [`${prefix}${MASK}`] : [`${prefix}${MASK}`, `${prefix}${line}`];
      expect(allowed, `${context}, line ${i + 1} of ${lines.length}, ${JSON.stringify(prefix)}`).toContain(
        out[i],
      );
    });
  }
}

/** A one-line encoding, embedded in a log line between fixed text, must be one mask. */
function expectInlineMasked(redactor: Redactor, encoded: string, quoted: boolean, context: string): void {
  const body = quoted ? encoded.slice(1, -1) : encoded;
  if (quoted) expect(`"${body}"`, context).toBe(encoded);
  const wrap = (inner: string) =>
    quoted ? `ts=2026-12-06T01:02:03Z level=info msg="${inner}" done` : `GET /login?pw=${inner}&next=/ 200`;
  expect(redactor.redact(wrap(body)), context).toBe(wrap(MASK));
}

const absent = (tools: Record<string, Encoder | undefined>) =>
  Object.keys(tools).filter((name) => tools[name] === undefined);

// Said once per run, so a skipped tool is visible in the output, not silently green.
for (const name of [...absent(base64Tools), ...absent(jsonTools), ...absent(urlTools)])
  console.warn(`[keyway] redaction tool test SKIPPED: ${name} is not installed on this machine`);

/** Hostile characters: `<>&` (Go), non-ASCII and astral (Python, PHP), `/` (PHP), line breaks. */
const character = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(..."ABCXYZabcxyz0189") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(..."<>&/\\\"' +=%~!*()-_.:;@#?[]{}", "\n", "\r\n", "\r", "\t", "\u007f"),
  },
  { weight: 2, arbitrary: fc.constantFrom("é", "ß", "€", "中", "\u2028", "\u2029", "\u0085", "😀", "𝄞") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
/** At least 8 characters, so every form is masked anywhere; up to ~300 bytes, so base64 wraps. */
const randomValue = fc.array(character, { minLength: 8, maxLength: 120 }).map((cs) => cs.join(""));
const values = fc.array(
  fc.oneof({ weight: 5, arbitrary: randomValue }, fc.constantFrom(...Object.values(REALISTIC))),
  {
    minLength: 1,
    maxLength: 6,
  },
);

describe("trust issue #18 point 4: wrapped base64 from the real tools", () => {
  for (const [tool, encode] of Object.entries(base64Tools)) {
    it.skipIf(encode === undefined)(
      `${tool}: every full line of the value's and of value+"\\n"'s encoding is masked, realistic values`,
      () => {
        for (const [kind, value] of Object.entries(REALISTIC)) {
          const redactor = redactorOf(value);
          const [plain, echoed] = (encode as Encoder)([value, `${value}\n`]) as [string, string];
          expectWrappedMasked(redactor, plain, `${tool} of the ${kind}`);
          expectWrappedMasked(redactor, echoed, `${tool} of the ${kind} and a newline`);
        }
      },
      TOOL_TIMEOUT,
    );

    it.skipIf(encode === undefined)(
      `${tool}: property over random values`,
      () => {
        fc.assert(
          fc.property(values, (vs) => {
            const redactor = redactorOf(...vs);
            const outputs = (encode as Encoder)(vs.flatMap((v) => [v, `${v}\n`]));
            outputs.forEach((output, i) => {
              expectWrappedMasked(redactor, output, `${tool} #${i}`);
            });
          }),
          { numRuns: 25 },
        );
      },
      TOOL_TIMEOUT,
    );
  }
});

describe("trust issue #18 point 4: wrapped base64 through redactor.stream()", () => {
  const encode = base64Tools["GNU base64"];
  it.skipIf(encode === undefined)(
    "every line of `base64` of a service-account JSON, split into 7-byte chunks, comes out masked",
    async () => {
      const redactor = redactorOf(serviceAccount);
      const [output] = (encode as Encoder)([`${serviceAccount}\n`]) as [string];
      const lines = output.split("\n").slice(0, -1);
      const log = Buffer.from(lines.map((line) => `  | ${line}\r\n`).join(""));
      const chunks: Buffer[] = [];
      for (let i = 0; i < log.length; i += 7) chunks.push(log.subarray(i, i + 7));
      const out: Buffer[] = [];
      await pipeline(Readable.from(chunks), redactor.stream(), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) out.push(chunk);
      });
      const expected = lines
        .map((line) => `  | ${line.length >= MIN_WRAPPED_TAIL ? MASK : line}\r\n`)
        .join("");
      expect(Buffer.concat(out).toString("utf8")).toBe(expected);
    },
    TOOL_TIMEOUT,
  );
});

/** One test per tool: its output of realistic and random values, placed in `where`, is one mask. */
function toolTests(tools: Record<string, Encoder | undefined>, inJson: boolean, where: string): void {
  for (const [tool, encode] of Object.entries(tools)) {
    it.skipIf(encode === undefined)(
      `${tool}: realistic and random values inside ${where} are one mask`,
      () => {
        const realistic = Object.values(REALISTIC);
        const outputs = (encode as Encoder)(realistic);
        realistic.forEach((value, i) => {
          expectInlineMasked(
            redactorOf(value),
            outputs[i] as string,
            inJson,
            `${tool}: ${Object.keys(REALISTIC)[i]}`,
          );
        });
        fc.assert(
          fc.property(values, (vs) => {
            const encoded = (encode as Encoder)(vs);
            vs.forEach((value, i) => {
              expectInlineMasked(
                redactorOf(value),
                encoded[i] as string,
                inJson,
                `${tool}: ${JSON.stringify(value)}`,
              );
            });
          }),
          { numRuns: 40 },
        );
      },
      TOOL_TIMEOUT,
    );
  }
}

describe("trust issue #18 point 4: other languages' JSON encoders", () =>
  toolTests(jsonTools, true, "a log line"));

describe("trust issue #18 point 4: percent-encoders", () => toolTests(urlTools, false, "a URL"));
