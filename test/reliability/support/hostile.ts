// Invalid references, built so that they are invalid by construction (the oracle does not ask the
// code under test): a valid part with a hostile piece put in, a field too long, a wrong type.
import fc from "fast-check";

/** Pieces that make any key, namespace segment or tenant invalid. */
export const HOSTILE_PIECES: readonly string[] = [
  "..",
  "/",
  "\\",
  "../",
  "..\\",
  "%2e%2e",
  "%2E%2E%2F",
  "%2F",
  "%5C",
  "%00",
  "\0",
  "\n",
  "\r",
  "\t",
  "\x1b[31m",
  "\x7f",
  "\u0085",
  "\u2028",
  "\u200b", // zero-width space
  "\u202e", // right-to-left override
  "\ufeff",
  "\u00a0",
  " ",
  "\uff2b", // fullwidth K
  "\u041a", // Cyrillic К
  "\u0391", // Greek Α
  "\u0131", // dotless ı
  "\ufb01", // ligature ﬁ
  "e\u0301", // combining accent
  "\u{1f511}",
  "\ud800", // lone surrogate
  ":",
  "|",
  "@",
  "$",
  "${X}",
  "{{",
  "'",
  '"',
  "*",
  "?",
  "#",
  "&",
  "=",
  "+",
  "~",
  ",",
  ";",
  "<",
  ">",
  "`",
];

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
export const validKey = fc.stringMatching(/^[A-Za-z0-9_-]{1,24}$/);
export const validNamespace = fc.array(segment, { minLength: 0, maxLength: 4 }).map((s) => s.join("."));
export const validTenant = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
const piece = fc.constantFrom(...HOSTILE_PIECES);
const notAString = fc.oneof(
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.constant({ toString: () => "API_TOKEN" }),
);
const inject = (base: fc.Arbitrary<string>, hostile: fc.Arbitrary<string>) =>
  fc.tuple(base, hostile, base, fc.nat()).map(([a, h, b, at]) => {
    const text = `${a}${b}`;
    const cut = at % (text.length + 1);
    return `${text.slice(0, cut)}${h}${text.slice(cut)}`;
  });

export const invalidKey: fc.Arbitrary<unknown> = fc.oneof(
  inject(validKey, fc.oneof(piece, fc.constant("."))),
  fc.stringMatching(/^[A-Za-z0-9_-]{256,300}$/),
  fc.constant(""),
  notAString,
);

export const invalidNamespace: fc.Arbitrary<unknown> = fc.oneof(
  inject(validNamespace, piece),
  // Empty segments: "a..b", ".a", "a."
  fc.tuple(validNamespace, validNamespace).map(([a, b]) => `${a}..${b}`),
  validNamespace.map((ns) => `.${ns}`),
  validNamespace.filter((ns) => ns !== "").map((ns) => `${ns}.`),
  fc
    .array(segment, { minLength: 20, maxLength: 30 })
    .map((s) => s.join("."))
    .filter((ns) => ns.length > 150),
  notAString,
);

export const invalidTenant: fc.Arbitrary<unknown> = fc.oneof(
  inject(validTenant, piece),
  validTenant.map((t) => t.toUpperCase()).filter((t) => /[A-Z]/.test(t)),
  validTenant.map((t) => `-${t}`),
  validTenant.map((t) => `${t}_x`),
  fc.stringMatching(/^[a-z0-9]{64,80}$/),
  fc.constant(""),
  notAString,
);

/** A reference with exactly one invalid part (or not an object at all). */
export const invalidRef: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ namespace: validNamespace, key: invalidKey }),
  fc.record({ namespace: invalidNamespace, key: validKey }),
  fc.record({ namespace: validNamespace, key: validKey, tenant: invalidTenant }),
  fc.record({ tenant: validTenant, namespace: validNamespace, key: invalidKey }),
  fc.constantFrom("company.team/API_TOKEN", 42, [] as unknown[]),
);

/** A fixed catalogue of the classic attacks, on top of the generated ones. */
export const CATALOGUE: ReadonlyArray<{ label: string; ref: unknown }> = [
  ...HOSTILE_PIECES.map((p) => ({
    label: `key with ${JSON.stringify(p)}`,
    ref: { namespace: "team", key: `A${p}B` },
  })),
  ...HOSTILE_PIECES.filter((p) => p !== "").map((p) => ({
    label: `namespace with ${JSON.stringify(p)}`,
    ref: { namespace: `team${p}other`, key: "API_TOKEN" },
  })),
  ...HOSTILE_PIECES.map((p) => ({
    label: `tenant with ${JSON.stringify(p)}`,
    ref: { tenant: `acme${p}`, namespace: "team", key: "API_TOKEN" },
  })),
  { label: "key ..", ref: { namespace: "team", key: ".." } },
  { label: "key ../../etc/passwd", ref: { namespace: "team", key: "../../etc/passwd" } },
  { label: "namespace ../..", ref: { namespace: "../..", key: "K" } },
  { label: "namespace a..b", ref: { namespace: "a..b", key: "K" } },
  { label: "namespace .a", ref: { namespace: ".a", key: "K" } },
  { label: "namespace a.", ref: { namespace: "a.", key: "K" } },
  { label: "namespace .", ref: { namespace: ".", key: "K" } },
  { label: "key 256 chars", ref: { namespace: "team", key: "K".repeat(256) } },
  { label: "namespace 151 chars", ref: { namespace: `a${".b".repeat(75)}`, key: "K" } },
  { label: "tenant 64 chars", ref: { tenant: "t".repeat(64), namespace: "team", key: "K" } },
  { label: "tenant Upper", ref: { tenant: "Acme", namespace: "team", key: "K" } },
  { label: "tenant -acme", ref: { tenant: "-acme", namespace: "team", key: "K" } },
  { label: "tenant empty", ref: { tenant: "", namespace: "team", key: "K" } },
  { label: "tenant null", ref: { tenant: null, namespace: "team", key: "K" } },
  { label: "key empty", ref: { namespace: "team", key: "" } },
  { label: "key missing", ref: { namespace: "team" } },
  { label: "namespace missing", ref: { key: "K" } },
  { label: "key number", ref: { namespace: "team", key: 42 } },
  { label: "key array", ref: { namespace: "team", key: ["K"] } },
  { label: "key object with toString", ref: { namespace: "team", key: { toString: () => "K" } } },
  { label: "string ref", ref: "team/K" },
];

/**
 * Values of the wrong type that cannot even be turned into a string for a message: a null or
 * missing ref, an object without a prototype (what JSON.parse of `{"__proto__": null}` style input
 * and fast-check's dictionaries give), a toString that throws, a symbol.
 */
export const WRONG_TYPES: ReadonlyArray<{ label: string; ref: unknown }> = [
  { label: "null ref", ref: null },
  { label: "undefined ref", ref: undefined },
  { label: "key without a prototype", ref: { namespace: "team", key: Object.create(null) } },
  { label: "namespace without a prototype", ref: { namespace: Object.create(null), key: "K" } },
  { label: "tenant without a prototype", ref: { tenant: Object.create(null), namespace: "team", key: "K" } },
  {
    label: "key whose toString throws",
    ref: {
      namespace: "team",
      key: {
        toString() {
          throw new Error("boom");
        },
      },
    },
  },
  { label: "key symbol", ref: { namespace: "team", key: Symbol("K") } },
];
