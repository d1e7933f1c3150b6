import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_STRIDE, MatchEngine, WINDOW } from "../../src/redact/engine.js";
import { flat, referenceRanges, referenceRedact } from "./reference.js";

// A small alphabet makes overlaps, shared prefixes and near misses common; the space, `-` and `é`
// exercise word boundaries (é is a word character, `-` and the space are not). `š` (U+0161) and
// `ġ` (U+0121) share their low byte with `a` and `!`, which the filter cannot tell apart; `𝐀` is a
// letter outside the BMP (two UTF-16 units), `😀` a symbol there.
const alphabet = fc.constantFrom("a", "b", "1", "_", "-", " ", "é", "š", "!", "ġ", "𝐀", "😀");
const pattern = fc.string({ unit: alphabet, minLength: 2, maxLength: 14 });
// Prefixes of other patterns too: they share a family, where the longest must win.
const patterns = fc
  .uniqueArray(pattern, { minLength: 1, maxLength: 12 })
  .chain((ps) =>
    fc
      .subarray(ps)
      .map((some) => [...new Set([...ps, ...some.map((p) => p.slice(0, -3)).filter((p) => p.length >= 2)])]),
  );
const anywhere = fc.integer({ min: 4, max: 10 });

/** Random text with some of the patterns planted in it. */
const textWith = (ps: readonly string[]) =>
  fc
    .array(fc.oneof(fc.string({ unit: alphabet, maxLength: 8 }), fc.constantFrom(...ps)), { maxLength: 30 })
    .map((parts) => parts.join(""));

const engineWith = (ps: readonly string[], anywhereLength: number) => {
  const engine = new MatchEngine({ anywhereLength });
  for (const p of ps) engine.add(p);
  return engine;
};

describe("MatchEngine against the naive reference", () => {
  it("finds the same merged ranges (whole-word below anywhereLength, anywhere above)", () => {
    fc.assert(
      fc.property(anywhere, patterns, (n, ps) => {
        const engine = engineWith(ps, n);
        fc.assert(
          fc.property(textWith(ps), (text) => {
            expect(engine.ranges(text)).toEqual(flat(referenceRanges(ps, text, n)));
            expect(engine.redact(text, "******")).toBe(referenceRedact(ps, text, n));
          }),
          { numRuns: 20 },
        );
      }),
      { numRuns: 150 },
    );
  });

  // Only a pattern's first MAX_STRIDE + 8 units are hashed (registering a multi-KB form copied it
  // whole, several times): long patterns sharing those units, and differing only after them, must
  // still each match exactly, as UTF-16 strings and as UTF-8 bytes.
  it("finds long patterns that share their hashed prefix and differ after it", () => {
    const prefix = fc.string({ unit: alphabet, minLength: MAX_STRIDE + 8, maxLength: MAX_STRIDE + 8 });
    const tail = fc.string({ unit: alphabet, minLength: 0, maxLength: 30 });
    fc.assert(
      fc.property(prefix, fc.uniqueArray(tail, { minLength: 1, maxLength: 6 }), (head, tails) => {
        const ps = tails.map((t) => `${head}${t}`);
        const utf16 = engineWith(ps, 8);
        const utf8 = new MatchEngine({ anywhereLength: 8, encoding: "utf8" });
        for (const p of ps) utf8.add(p);
        fc.assert(
          fc.property(textWith([...ps, head, ...tails]), (text) => {
            const expected = referenceRanges(ps, text, 8);
            expect(utf16.ranges(text)).toEqual(flat(expected));
            const bytes = Buffer.from(text, "utf8");
            const byteRanges = expected.map(([a, b]) => [
              Buffer.byteLength(text.slice(0, a)),
              Buffer.byteLength(text.slice(0, b)),
            ]);
            expect(utf8.ranges(bytes)).toEqual(byteRanges.flat());
          }),
          { numRuns: 10 },
        );
      }),
      { numRuns: 100 },
    );
  });

  it("starts at `from` and still reads the character before it for word boundaries", () => {
    fc.assert(
      fc.property(anywhere, patterns, fc.nat(), (n, ps, seed) => {
        const engine = engineWith(ps, n);
        fc.assert(
          fc.property(textWith(ps), (text) => {
            const from = text.length === 0 ? 0 : seed % text.length;
            expect(engine.ranges(text, from)).toEqual(flat(referenceRanges(ps, text, n, from)));
          }),
          { numRuns: 10 },
        );
      }),
      { numRuns: 100 },
    );
  });

  it("stays right while patterns come and go (reference counts, shorter patterns shrinking the stride)", () => {
    // Few distinct patterns, so the same one is added and removed several times.
    const run = patterns.chain((pool) =>
      fc.tuple(
        fc.constant(pool),
        fc.array(fc.tuple(fc.boolean(), fc.constantFrom(...pool)), { minLength: 1, maxLength: 40 }),
      ),
    );
    fc.assert(
      fc.property(run, fc.string({ unit: alphabet, maxLength: 200 }), ([, ops], text) => {
        const engine = new MatchEngine();
        const refs = new Map<string, number>();
        for (const [add, p] of ops) {
          const count = refs.get(p) ?? 0;
          if (add) {
            engine.add(p);
            refs.set(p, count + 1);
          } else if (count > 0) {
            engine.remove(p);
            if (count === 1) refs.delete(p);
            else refs.set(p, count - 1);
          }
          const live = [...refs.keys()];
          expect(engine.size).toBe(live.length);
          expect(engine.ranges(text + live.join(" "))).toEqual(
            flat(referenceRanges(live, text + live.join(" "), 8)),
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("MatchEngine over UTF-8 bytes (streams)", () => {
  /** String ranges as byte ranges of the text's UTF-8 encoding. */
  const toBytes = (text: string, r: number[]) => r.map((i) => Buffer.byteLength(text.slice(0, i)));

  it("finds the ranges the string engine finds, at their byte offsets", () => {
    // No lone surrogate (`String#isWellFormed` is not in this TypeScript lib): UTF-8 cannot hold one.
    const isWellFormed = (s: string) => !/\p{Cs}/u.test(s);
    const wellFormed = patterns.map((ps) => ps.filter(isWellFormed));
    fc.assert(
      fc.property(anywhere, wellFormed, (n, ps) => {
        const strings = engineWith(ps, n);
        const bytes = new MatchEngine({ anywhereLength: n, encoding: "utf8" });
        for (const p of ps) bytes.add(p);
        fc.assert(
          fc.property(ps.length > 0 ? textWith(ps) : fc.string({ unit: alphabet }), (text) => {
            fc.pre(isWellFormed(text));
            const expected = strings.ranges(text);
            expect(expected).toEqual(flat(referenceRanges(ps, text, n)));
            expect(bytes.ranges(Buffer.from(text))).toEqual(toBytes(text, expected));
          }),
          { numRuns: 20 },
        );
      }),
      { numRuns: 150 },
    );
  });

  it("scans only the subject its encoding reads", () => {
    expect(() => new MatchEngine().ranges(Buffer.from("x"))).toThrow(TypeError);
    expect(() => new MatchEngine({ encoding: "utf8" }).ranges("x")).toThrow(TypeError);
  });

  it("relies on Node's latin1 writer keeping the low byte of every UTF-16 unit", () => {
    // The filter hashes strings through this projection (see `unitsOf` in engine.ts).
    const units = Array.from({ length: 0x10000 }, (_, c) => c);
    const bytes = Buffer.from(
      String.fromCharCode(...units.slice(0, 0x8000)) + String.fromCharCode(...units.slice(0x8000)),
      "latin1",
    );
    expect(bytes.length).toBe(0x10000);
    expect(bytes.every((b, c) => b === (c & 0xff))).toBe(true);
  });
});

describe("MatchEngine", () => {
  it("masks a longer secret that contains a shorter one without leaving a fragment of either", () => {
    const engine = engineWith(["token-abcdef-0123", "abcdef-01", "0123456789"], 8);
    expect(engine.redact("x token-abcdef-0123456789 y", "*")).toBe("x * y");
  });

  it("masks the longest of the patterns that start at the same place", () => {
    const engine = engineWith(["abcdefgh", "abcdefghij", "abcdefghi"], 8);
    expect(engine.redact("abcdefghij!", "*")).toBe("*!");
  });

  it("merges overlapping and adjacent matches into one mask", () => {
    const engine = engineWith(["AAAABBBB", "BBBBCCCC", "DDDDDDDD"], 8);
    expect(engine.redact("AAAABBBBCCCC", "#")).toBe("#");
    expect(engine.redact("AAAABBBBDDDDDDDD", "#")).toBe("#");
    expect(engine.redact("AAAABBBB DDDDDDDD", "#")).toBe("# #");
  });

  it("matches short patterns only as whole words", () => {
    const engine = engineWith(["pass", "héllo"], 8);
    expect(engine.redact("pass passport my_pass (pass) pass.", "*")).toBe("* passport my_pass (*) *.");
    expect(engine.redact("héllo héllos xhéllo", "*")).toBe("* héllos xhéllo");
  });

  it("finds patterns at every offset, at the very start and end, whatever the stride", () => {
    for (let length = 8; length <= 8 + MAX_STRIDE + 2; length++) {
      const p = "abcdefghijklmnopqrstuvwxyz".slice(0, length);
      const engine = engineWith([p], 8);
      for (let at = 0; at < 2 * MAX_STRIDE; at++) {
        const text = `${"-".repeat(at)}${p}${"-".repeat(at % 3)}`;
        expect(engine.ranges(text)).toEqual([at, at + length]);
      }
    }
  });

  it("finds matches across the edges of the windows a long string is scanned in", () => {
    const engine = engineWith(["secret-across-the-edge", "pw12"], 8);
    const wordOnly = engineWith(["pw12"], 8); // the longest pattern is a word: the tightest overlap
    for (let d = -30; d <= 6; d++) {
      expect(wordOnly.ranges(`${" ".repeat(WINDOW + d)}pw12𝐀 `)).toEqual([]);
      expect(wordOnly.ranges(`${" ".repeat(WINDOW + d)}pw12😀 `)).toEqual([WINDOW + d, WINDOW + d + 4]);
      for (const p of ["secret-across-the-edge", "pw12"]) {
        const at = WINDOW + d;
        const text = `${" ".repeat(at)}${p} ${"-".repeat(WINDOW)}`;
        expect(engine.ranges(text)).toEqual([at, at + p.length]);
        expect(engine.ranges(text, at - 3)).toEqual([at, at + p.length]);
        expect(engine.ranges(text, at + 1)).toEqual([]);
        // A letter right after (outside the BMP) or before makes the short one part of a word.
        expect(engine.ranges(`${" ".repeat(at)}${p}𝐀 `)).toEqual(p === "pw12" ? [] : [at, at + p.length]);
        expect(engine.ranges(`${" ".repeat(at - 2)}𝐀${p} `)).toEqual(p === "pw12" ? [] : [at, at + p.length]);
      }
    }
  });

  it("keeps a pattern shared by two owners until both remove it", () => {
    const engine = engineWith(["shared-secret", "shared-secret"], 8);
    engine.remove("shared-secret");
    expect(engine.redact("shared-secret", "*")).toBe("*");
    engine.remove("shared-secret");
    expect(engine.redact("shared-secret", "*")).toBe("shared-secret");
    expect(engine.size).toBe(0);
  });

  it("returns the same string when nothing matches", () => {
    const engine = engineWith(["not-in-the-text"], 8);
    const text = "a log line".repeat(10);
    expect(engine.redact(text, "*")).toBe(text);
  });

  it("handles many patterns sharing a prefix (one family) and many distinct ones", () => {
    const ps = Array.from({ length: 2000 }, (_, i) => `prefix-${i.toString(36)}-${"x".repeat(i % 7)}`);
    const engine = engineWith(ps, 8);
    const text = `${ps[1234]} and ${ps[7]}!`;
    expect(engine.ranges(text)).toEqual(flat(referenceRanges(ps, text, 8)));
  });

  it("rejects patterns and options the filter cannot handle", () => {
    expect(() => new MatchEngine({ anywhereLength: 3 })).toThrow(RangeError);
    expect(() => new MatchEngine().add("a")).toThrow(RangeError);
  });
});
