import type { SecretRef } from "@keyway/core";
import { isValidKey, isValidNamespace, isValidTenant, validateRef } from "@keyway/core/backend";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  keywayTags,
  MAX_PREFIX_LENGTH,
  MAX_SECRET_NAME_LENGTH,
  namespaceNamePrefix,
  parseSecretName,
  secretName,
  tagsMatchRef,
} from "../src/names.js";
import { prefixSchema } from "../src/options.js";

const char = fc.constantFrom(..."aZ09_-".split(""), ..."bcXY".split(""));
const segment = fc.string({ unit: char, minLength: 1, maxLength: 6 });
const key = fc.string({ unit: char, minLength: 1, maxLength: 8 });
const namespace = fc
  .array(segment, { maxLength: 4 })
  .map((segments) => segments.join("."))
  .filter(isValidNamespace);
const tenant = fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,5}$/), { nil: undefined });
const ref: fc.Arbitrary<SecretRef> = fc
  .record({ tenant, namespace, key })
  .map((r) => validateRef(r.tenant === undefined ? { namespace: r.namespace, key: r.key } : r));
const prefix = fc.constantFrom("keyway", "kestra-prod", "team/keyway", "a.b@c");

describe("secretName", () => {
  it("spells out tenant, namespace segments and key", () => {
    expect(secretName("keyway", { tenant: "acme", namespace: "company.team", key: "DB" })).toBe(
      "keyway/acme/company/team/DB",
    );
    expect(secretName("keyway", { namespace: "company.team", key: "DB" })).toBe("keyway/_/company/team/DB");
    expect(secretName("keyway", { namespace: "", key: "DB" })).toBe("keyway/_/DB");
  });

  it("keeps the root namespace's key A apart from namespace A", () => {
    const root = secretName("keyway", { namespace: "", key: "A" });
    const inA = secretName("keyway", { namespace: "A", key: "K" });
    expect(root).toBe("keyway/_/A");
    expect(parseSecretName("keyway", root)).toEqual({ namespace: "", key: "A" });
    expect(parseSecretName("keyway", inA)).toEqual({ namespace: "A", key: "K" });
  });

  it("fits AWS's 512 characters for the longest valid ref", () => {
    const longest: SecretRef = {
      tenant: `t${"x".repeat(62)}`,
      namespace: Array.from({ length: 75 }, () => "a").join("."),
      key: "K".repeat(255),
    };
    expect(
      isValidTenant(longest.tenant) && isValidNamespace(longest.namespace) && isValidKey(longest.key),
    ).toBe(true);
    const longestNamespace = `${"n".repeat(150)}`;
    const name = secretName("p".repeat(MAX_PREFIX_LENGTH), { ...longest, namespace: longestNamespace });
    expect(name.length).toBe(MAX_SECRET_NAME_LENGTH);
    expect(prefixSchema.safeParse("p".repeat(MAX_PREFIX_LENGTH + 1)).success).toBe(false);
  });

  it("refuses prefixes AWS would not take or that would make empty parts", () => {
    for (const bad of ["", "/a", "a/", "a//b", "a b", "a!b", "ä"])
      expect(prefixSchema.safeParse(bad).success).toBe(false);
    for (const good of ["keyway", "team/keyway", "a.b@c+d=e_f-g"])
      expect(prefixSchema.safeParse(good).success).toBe(true);
  });
});

describe("parseSecretName", () => {
  it("ignores names that this mapping cannot make", () => {
    for (const name of [
      "other/_/A",
      "keyway",
      "keyway/_",
      "keyway/_/",
      "keyway/_/a//K",
      "keyway/Bad/K",
      "keyway/-bad/K",
      "keyway/_/a.b/K",
      "keyway/_/K!",
      "keywayx/_/K",
    ]) {
      expect(parseSecretName("keyway", name)).toBeUndefined();
    }
  });
});

describe("name mapping properties", () => {
  it("maps back: parseSecretName(secretName(ref)) is ref", () => {
    fc.assert(
      fc.property(prefix, ref, (p, r) => {
        expect(parseSecretName(p, secretName(p, r))).toEqual(r);
      }),
      { numRuns: 2000 },
    );
  });

  it("never maps distinct refs to the same name (collision-free)", () => {
    fc.assert(
      fc.property(prefix, ref, ref, (p, a, b) => {
        const same = a.key === b.key && a.namespace === b.namespace && a.tenant === b.tenant;
        expect(secretName(p, a) === secretName(p, b)).toBe(same);
      }),
      { numRuns: 5000 },
    );
  });

  it("a parsed name is exactly the name of the ref it gives (no second spelling)", () => {
    const part = fc.oneof(
      segment,
      fc.constant("_"),
      fc.constant(""),
      fc.stringMatching(/^[a-z0-9.!-]{1,4}$/),
    );
    fc.assert(
      fc.property(prefix, fc.array(part, { minLength: 1, maxLength: 6 }), (p, parts) => {
        const name = [p, ...parts].join("/");
        const parsed = parseSecretName(p, name);
        if (parsed) expect(secretName(p, parsed)).toBe(name);
      }),
      { numRuns: 5000 },
    );
  });

  it("a namespace's list prefix keeps exactly its own keys after parsing", () => {
    fc.assert(
      fc.property(prefix, ref, namespace, tenant, (p, r, ns, t) => {
        const name = secretName(p, r);
        const parsed = parseSecretName(p, name) as SecretRef;
        const inListing =
          name.startsWith(namespaceNamePrefix(p, ns, t)) && parsed.namespace === ns && parsed.tenant === t;
        expect(inListing).toBe(r.namespace === ns && r.tenant === t);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("keyway tags", () => {
  it("tag a ref as Kestra's managed mode does, and match only that ref", () => {
    const r = { tenant: "acme", namespace: "company.team", key: "DB" };
    const tags = keywayTags("keyway", r);
    expect(tags).toEqual({
      "keyway:prefix": "keyway",
      "keyway:namespace": "company.team",
      "keyway:key": "DB",
      "keyway:tenant": "acme",
    });
    expect(tagsMatchRef(tags, r)).toBe(true);
    expect(tagsMatchRef(tags, { ...r, tenant: undefined })).toBe(false);
    expect(tagsMatchRef(tags, { ...r, namespace: "company" })).toBe(false);
    expect(
      tagsMatchRef(keywayTags("keyway", { namespace: "", key: "DB" }), { namespace: "", key: "DB" }),
    ).toBe(true);
  });
});
