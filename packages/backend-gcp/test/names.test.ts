import { InvalidReferenceError, type SecretRef } from "@keyway/core";
import { isValidKey, isValidNamespace } from "@keyway/core/backend";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeSecretId,
  encodeSecretId,
  MAX_SECRET_ID_LENGTH,
  namespaceLabel,
  secretIdFor,
} from "../src/names.js";

// Parts built mostly from the characters the encoding treats specially, so escapes collide if they can.
const tricky = (min: number, max: number) =>
  fc
    .array(fc.constantFrom("_", "_", "-", "d", "k", "n", "t", "A", "z", "0"), {
      minLength: min,
      maxLength: max,
    })
    .map((c) => c.join(""));
const part = (max: number) =>
  fc.oneof(fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{1,${max}}$`)), tricky(1, max));
const namespace = fc.oneof(
  fc.constant(""),
  fc.array(part(10), { minLength: 1, maxLength: 4 }).map((s) => s.join(".")),
);
const tenant = fc.option(
  fc.oneof(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/), fc.constantFrom("t", "k-n", "d", "0-")),
  { nil: undefined },
);
const refArb: fc.Arbitrary<SecretRef> = fc
  .record({ tenant, namespace, key: part(40) })
  .map(({ tenant, namespace, key }) =>
    tenant === undefined ? { namespace, key } : { tenant, namespace, key },
  );
const prefix = fc.oneof(fc.constant("keyway"), fc.constant(""), part(12));

// A small world (few characters, short parts) where two different refs often look alike, so a
// collision, if the encoding allowed one, would be found.
const small = tricky(1, 3);
const smallRef: fc.Arbitrary<SecretRef> = fc
  .record({
    tenant: fc.option(fc.constantFrom("t", "d", "k", "n"), { nil: undefined }),
    namespace: fc.oneof(
      fc.constant(""),
      fc.array(small, { minLength: 1, maxLength: 2 }).map((s) => s.join(".")),
    ),
    key: small,
  })
  .map(({ tenant, namespace, key }) =>
    tenant === undefined ? { namespace, key } : { tenant, namespace, key },
  );
const smallPrefix = fc.oneof(fc.constant(""), small);

describe("GCP secret id mapping", () => {
  it("spells the README example", () => {
    const ref = { tenant: "acme", namespace: "company.team", key: "DB_PASSWORD" };
    expect(encodeSecretId("keyway", ref)).toBe("keyway_tacme_ncompany_dteam_kDB__PASSWORD");
    expect(encodeSecretId("keyway", { namespace: "", key: "API-KEY" })).toBe("keyway_n_kAPI-KEY");
    expect(encodeSecretId("my_app", { namespace: "a_b.c", key: "_" })).toBe("my__app_na__b_dc_k__");
  });

  it("decodes what it encodes, including escapes next to markers", () => {
    expect(decodeSecretId("keyway_tacme_ncompany_dteam_kDB__PASSWORD")).toEqual({
      prefix: "keyway",
      tenant: "acme",
      namespace: "company.team",
      key: "DB_PASSWORD",
    });
    // "a_" followed by the key marker: `a__` then `_k`.
    expect(decodeSecretId("p_na___kB")).toEqual({ prefix: "p", namespace: "a_", key: "B" });
    expect(decodeSecretId("_n_kK")).toEqual({ prefix: "", namespace: "", key: "K" });
  });

  it("refuses ids it would never write", () => {
    for (const id of [
      "",
      "not-a-keyway-id",
      "keyway_kA", // no namespace marker
      "keyway_nA", // no key
      "keyway_na_k", // empty key
      "keyway_n_dA_kB", // empty first segment
      "keyway_nA_d_kB", // empty last segment
      "keyway_nA_kB_x", // unknown marker
      "keyway_nA_kB_", // dangling escape
      "keyway_tACME_nA_kB", // tenant outside the tenant grammar
      "keyway_t_nA_kB", // empty tenant
      "keyway_nA_tacme_kB", // markers out of order
      "keyway_nA_kB_kC", // two keys
      "keyway.bad_nA_kB", // outside the alphabet
    ]) {
      expect(decodeSecretId(id), id).toBeUndefined();
    }
  });

  it("is an error past 255 characters, never a truncation", () => {
    const base = encodeSecretId("keyway", { namespace: "ns", key: "" }).length;
    const fits = { namespace: "ns", key: "K".repeat(MAX_SECRET_ID_LENGTH - base) };
    expect(secretIdFor("keyway", fits)).toHaveLength(255);
    const over = { namespace: "ns", key: "K".repeat(MAX_SECRET_ID_LENGTH - base + 1) };
    expect(() => secretIdFor("keyway", over, "gcp")).toThrow(InvalidReferenceError);
    expect(() => secretIdFor("keyway", over)).toThrow(/256 characters; the limit is 255/);
    // Escapes count: a key of underscores takes twice its length.
    expect(() => secretIdFor("keyway", { namespace: "ns", key: "_".repeat(125) })).toThrow(
      InvalidReferenceError,
    );
  });

  // decode(encode(x)) = x is what proves the mapping collision-free: equal ids would decode to one ref.
  it("property: the inverse maps every id back to its prefix and ref", () => {
    fc.assert(
      fc.property(prefix, refArb, (p, ref) => {
        const id = encodeSecretId(p, ref);
        expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeSecretId(id)).toEqual({ prefix: p, ...ref });
        expect(isValidKey(ref.key) && isValidNamespace(ref.namespace)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: distinct (prefix, ref) pairs never share an id", () => {
    fc.assert(
      fc.property(smallPrefix, smallRef, smallPrefix, smallRef, (p1, r1, p2, r2) => {
        const same =
          p1 === p2 && r1.tenant === r2.tenant && r1.namespace === r2.namespace && r1.key === r2.key;
        expect(encodeSecretId(p1, r1) === encodeSecretId(p2, r2)).toBe(same);
      }),
      { numRuns: 20_000 },
    );
  });

  it("exhaustively: no two refs of a small world share an id (every part of 1-2 of _ d k n t)", () => {
    const chars = ["_", "d", "k", "n", "t"];
    const parts = [...chars, ...chars.flatMap((a) => chars.map((b) => a + b))];
    const namespaces = ["", ...parts, ...parts.flatMap((a) => ["d", "_", "n_k"].map((b) => `${a}.${b}`))];
    const seen = new Map<string, string>();
    for (const p of ["", ...parts])
      for (const tenant of [undefined, "t", "d-n"])
        for (const namespace of namespaces)
          for (const key of parts) {
            const ref = tenant === undefined ? { namespace, key } : { tenant, namespace, key };
            const id = encodeSecretId(p, ref);
            const me = JSON.stringify([p, ref]);
            const other = seen.get(id);
            if (other !== undefined) expect.fail(`${me} and ${other} both map to ${id}`);
            seen.set(id, me);
          }
    expect(seen.size).toBe(31 * 3 * 121 * 30);
  });

  it("property: the namespace label is a valid label value and separates prefix, tenant and namespace", () => {
    fc.assert(
      fc.property(prefix, refArb, prefix, refArb, (p1, r1, p2, r2) => {
        const a = namespaceLabel(p1, r1.tenant, r1.namespace);
        expect(a).toMatch(/^[a-z0-9_-]{1,63}$/);
        const same = p1 === p2 && r1.tenant === r2.tenant && r1.namespace === r2.namespace;
        expect(a === namespaceLabel(p2, r2.tenant, r2.namespace)).toBe(same);
      }),
      { numRuns: 2000 },
    );
    // The boundary between parts matters: ("a", "b.c") is not ("a.b", "c").
    expect(namespaceLabel("a", undefined, "b.c")).not.toBe(namespaceLabel("a.b", undefined, "c"));
  });
});
