import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_STRIDE, MatchEngine } from "../../src/redact/engine.js";
import { flat, referenceRanges, referenceRedact } from "./reference.js";

// A small alphabet makes overlaps, shared prefixes and near misses common; the space, `-` and `é`
// exercise word boundaries (é is a word character, `-` and the space are not).
const alphabet = fc.constantFrom("a", "b", "1", "_", "-", " ", "é");
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
