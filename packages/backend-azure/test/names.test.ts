import { InvalidReferenceError, type SecretRef } from "@keyway/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeFields,
  decodeName,
  encodeField,
  encodeName,
  MAX_NAME_LENGTH,
  namespacePrefix,
  secretName,
} from "../src/names.js";

const KEYVAULT_NAME = /^[0-9a-z-]{1,127}$/;

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const key = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const namespace = fc.oneof(
  fc.constant(""),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join(".")),
);
const tenant = fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/), { nil: undefined });
const prefix = fc.oneof(fc.constant("keyway"), fc.stringMatching(/^[A-Za-z0-9_.-]{1,12}$/));
const ref = fc
  .record({ tenant, namespace, key })
  .map((r): SecretRef => (r.tenant === undefined ? { namespace: r.namespace, key: r.key } : r));

describe("encodeField", () => {
  it("keeps lower-case letters and digits, escapes everything else", () => {
    expect(encodeField("abc123")).toBe("abc123-0");
    expect(encodeField("a.b_c-d")).toBe("a-1b-2c-3d-0");
    expect(encodeField("")).toBe("-0");
  });

  it("escapes a lone capital, toggles the case mode for a run", () => {
    expect(encodeField("Key")).toBe("-key-0");
    expect(encodeField("KEY")).toBe("-4key-0");
    expect(encodeField("DB_PASSWORD")).toBe("-4db-2password-0");
    expect(encodeField("Mixed_Case")).toBe("-mixed-2-case-0");
    expect(encodeField("HTTPServer")).toBe("-4https-4erver-0");
    expect(encodeField("apiToken")).toBe("api-token-0");
    // In upper mode a lone lower-case letter is the escaped one.
    expect(encodeField("ABcD")).toBe("-4ab-cd-0");
  });

  it("spells out the README example", () => {
    const name = encodeName("keyway", { tenant: "main", namespace: "company.team", key: "DB_PASSWORD" });
    expect(name).toBe("keyway-0main-0company-1team-0-4db-2password-0");
    expect(decodeName(name)).toEqual({
      prefix: "keyway",
      tenant: "main",
      namespace: "company.team",
      key: "DB_PASSWORD",
    });
  });
});

describe("names: property tests", () => {
  it("every name fits Key Vault's alphabet, in lower case", () => {
    fc.assert(
      fc.property(prefix, ref, (p, r) => {
        const name = encodeName(p, r);
        expect(name).toMatch(/^[0-9a-z-]+$/);
        if (name.length <= MAX_NAME_LENGTH) expect(name).toMatch(KEYVAULT_NAME);
      }),
      { numRuns: 2000 },
    );
  });

  it("decode(encode(x)) = x", () => {
    fc.assert(
      fc.property(prefix, ref, (p, r) => {
        expect(decodeName(encodeName(p, r))).toEqual({
          prefix: p,
          tenant: r.tenant,
          namespace: r.namespace,
          key: r.key,
        });
      }),
      { numRuns: 2000 },
    );
  });

  it("distinct refs never share a name, even compared case-insensitively as Key Vault does", () => {
    fc.assert(
      fc.property(prefix, ref, prefix, ref, (p1, r1, p2, r2) => {
        const same =
          p1 === p2 && r1.tenant === r2.tenant && r1.namespace === r2.namespace && r1.key === r2.key;
        if (same) return;
        expect(encodeName(p1, r1).toLowerCase()).not.toBe(encodeName(p2, r2).toLowerCase());
      }),
      { numRuns: 5000 },
    );
  });

  it("near misses (one character swapped for a look-alike, or moved across fields) get distinct names", () => {
    // Random pairs rarely collide by chance, so also test edits that a weak encoding would merge.
    const swaps: Record<string, string[]> = { _: ["-", "."], "-": ["_", "."], ".": ["_", "-"] };
    const variants = (text: string): string[] => {
      const out: string[] = [];
      for (let i = 0; i < text.length; i++) {
        const c = text[i] as string;
        const others = [...(swaps[c] ?? []), c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()];
        for (const o of others) if (o !== c) out.push(text.slice(0, i) + o + text.slice(i + 1));
      }
      return out;
    };
    fc.assert(
      fc.property(prefix, ref, (p, r) => {
        const name = encodeName(p, r).toLowerCase();
        const others: Array<[string, SecretRef]> = [
          ...variants(r.key).map((k): [string, SecretRef] => [p, { ...r, key: k }]),
          ...variants(r.namespace).map((ns): [string, SecretRef] => [p, { ...r, namespace: ns }]),
          ...variants(p).map((q): [string, SecretRef] => [q, r]),
          // The last namespace segment moved into the key, and back.
          [
            p,
            {
              ...r,
              namespace: r.namespace.split(".").slice(0, -1).join("."),
              key: `${r.namespace.split(".").pop()}.${r.key}`,
            },
          ],
          [p, { ...r, tenant: r.tenant === undefined ? "t" : undefined }],
        ];
        for (const [q, o] of others) {
          const same = q === p && o.tenant === r.tenant && o.namespace === r.namespace && o.key === r.key;
          if (!same) expect(encodeName(q, o).toLowerCase()).not.toBe(name);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("distinct keys that differ only in case get distinct names", () => {
    fc.assert(
      fc.property(key, (k) => {
        const flipped = [...k]
          .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
          .join("");
        fc.pre(flipped !== k);
        expect(encodeName("keyway", { namespace: "ns", key: k })).not.toBe(
          encodeName("keyway", { namespace: "ns", key: flipped }),
        );
      }),
    );
  });

  it("a namespace's prefix starts exactly the names of that namespace, not of its children or siblings", () => {
    fc.assert(
      fc.property(prefix, ref, namespace, tenant, (p, r, ns, t) => {
        const starts = encodeName(p, r).startsWith(namespacePrefix(p, ns, t));
        expect(starts).toBe(r.namespace === ns && r.tenant === t);
      }),
      { numRuns: 3000 },
    );
  });

  it("decodes names read back in any case (Key Vault may return another spelling)", () => {
    fc.assert(
      fc.property(prefix, ref, (p, r) => {
        expect(decodeName(encodeName(p, r).toUpperCase())?.key).toBe(r.key);
      }),
    );
  });

  it("a name is decoded only if the encoder would write exactly it", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9a-z-]{1,40}$/), (name) => {
        const decoded = decodeName(name);
        if (decoded) {
          const { prefix: p, ...r } = decoded;
          expect(encodeName(p, r.tenant === undefined ? { namespace: r.namespace, key: r.key } : r)).toBe(
            name,
          );
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe("decodeName rejects names it did not write", () => {
  it.each([
    ["a secret made by hand", "db-password"],
    ["three fields", "keyway-0-0ns-0"],
    ["an empty key", "keyway-0-0ns-0-0"],
    ["five fields", "keyway-0-0ns-0key-0x-0"],
    ["a dangling escape", "keyway-0-0ns-0key-"],
    ["an unknown code", "keyway-0-0ns-0k-9-0"],
    ["a trailing field", "keyway-0-0ns-0key-0x"],
    ["a non-canonical toggle", "keyway-0-0ns-0-4-4key-0"],
    ["a single capital written as a toggle", "keyway-0-0ns-0-4k-4ey-0"],
  ])("%s", (_label, name) => {
    expect(decodeName(name)).toBeUndefined();
  });

  it("decodeFields tells an unfinished field", () => {
    expect(decodeFields("abc")).toBeUndefined();
    expect(decodeFields("abc-0")).toEqual(["abc"]);
  });
});

describe("secretName length", () => {
  const base = { namespace: "ns" };
  // "keyway-0" + "-0" + "ns-0" = 14 characters, then the key and its "-0".
  const fixed = encodeName("keyway", { ...base, key: "x" }).length - 1;

  it("accepts a name of exactly 127 characters", () => {
    const k = "k".repeat(MAX_NAME_LENGTH - fixed);
    const name = secretName("keyway", { ...base, key: k });
    expect(name).toHaveLength(MAX_NAME_LENGTH);
  });

  it("refuses one character more with InvalidReferenceError naming the key, never a cut name", () => {
    const k = "k".repeat(MAX_NAME_LENGTH - fixed + 1);
    const error = (() => {
      try {
        secretName("keyway", { ...base, key: k }, "azure");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InvalidReferenceError);
    expect((error as Error).message).toContain(`'${k}'`);
    expect((error as Error).message).toContain("128 characters");
  });

  it("counts escapes: 40 capitals alternating with lower case cost two characters each", () => {
    const k = "aB".repeat(20);
    expect(encodeField(k)).toHaveLength(20 + 40 + 2);
  });
});
