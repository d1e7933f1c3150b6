import { ConfigurationError, type SecretRef } from "@keyway/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  folderPath,
  keyFromListEntry,
  managedLayout,
  type PathLayout,
  pathSegments,
  readOnlyLayout,
  refFromPath,
  secretPath,
} from "../src/names.js";

const segment = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const key = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const namespace = fc.array(segment, { maxLength: 5 }).map((s) => s.join("."));
const tenant = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,15}$/);
const refWith = (t: fc.Arbitrary<string | undefined>) =>
  fc
    .record({ tenant: t, namespace, key })
    .map(({ tenant, ...rest }): SecretRef => (tenant === undefined ? rest : { tenant, ...rest }));
const anyRef = refWith(fc.option(tenant, { nil: undefined }));

/** Distinct refs never share a path, and every path maps back to its ref. */
function assertBijective(layout: PathLayout, refs: fc.Arbitrary<SecretRef>) {
  fc.assert(
    fc.property(
      fc.uniqueArray(refs, {
        selector: (r) => JSON.stringify([r.tenant, r.namespace, r.key]),
        minLength: 2,
        maxLength: 30,
      }),
      (list) => {
        const paths = list.map((r) => secretPath(layout, r));
        expect(new Set(paths).size).toBe(list.length);
        for (const [i, r] of list.entries()) expect(refFromPath(layout, paths[i] as string)).toEqual(r);
      },
    ),
    { numRuns: 300 },
  );
}

describe("managed layout: <prefix>/<tenant or _>/<namespace…>/<KEY>", () => {
  const layout = managedLayout("keyway");

  it("maps the documented examples", () => {
    expect(secretPath(layout, { tenant: "internal", namespace: "company.team", key: "KEY" })).toBe(
      "keyway/internal/company/team/KEY",
    );
    expect(secretPath(layout, { namespace: "company.team", key: "KEY" })).toBe("keyway/_/company/team/KEY");
    expect(secretPath(layout, { namespace: "", key: "KEY" })).toBe("keyway/_/KEY");
    expect(secretPath(managedLayout(""), { namespace: "a", key: "K" })).toBe("_/a/K");
    expect(secretPath(managedLayout("/apps/kw/"), { namespace: "a", key: "K" })).toBe("apps/kw/_/a/K");
  });

  it("keeps a root key and a namespace of the same name apart (the key is always the last segment)", () => {
    const rootKey = secretPath(layout, { namespace: "", key: "A" });
    const nsKey = secretPath(layout, { namespace: "A", key: "B" });
    expect(rootKey).toBe("keyway/_/A");
    expect(nsKey).toBe("keyway/_/A/B");
    expect(refFromPath(layout, rootKey)).toEqual({ namespace: "", key: "A" });
    expect(refFromPath(layout, nsKey)).toEqual({ namespace: "A", key: "B" });
  });

  it("keeps 'no tenant' apart from every tenant and from a namespace named '_'", () => {
    expect(secretPath(layout, { namespace: "_", key: "K" })).toBe("keyway/_/_/K");
    expect(refFromPath(layout, "keyway/_/_/K")).toEqual({ namespace: "_", key: "K" });
    expect(refFromPath(layout, "keyway/_/K")).toEqual({ namespace: "", key: "K" });
  });

  it("property: injective and reversible", () => {
    assertBijective(layout, anyRef);
    assertBijective(managedLayout(""), anyRef);
    assertBijective(managedLayout("a/b.c/d"), anyRef);
  });

  it("the inverse refuses paths outside the layout", () => {
    for (const path of [
      "other/_/K",
      "keyway/_",
      "keyway",
      "keyway/Bad Tenant/K",
      "keyway/_/a..b/K",
      "keyway/_/ns/",
      "keyway/-x/K",
    ]) {
      expect(refFromPath(layout, path)).toBeUndefined();
    }
  });

  it("folders and LIST entries", () => {
    expect(folderPath(layout, "", undefined)).toBe("keyway/_");
    expect(folderPath(layout, "a.b", "t1")).toBe("keyway/t1/a/b");
    expect(keyFromListEntry("KEY")).toBe("KEY");
    expect(keyFromListEntry("sub/")).toBeUndefined();
    expect(keyFromListEntry("has.dot")).toBeUndefined();
    expect(keyFromListEntry(42)).toBeUndefined();
  });
});

describe("read-only layout: <readOnlyPath>/<namespace…>/<KEY>", () => {
  it("maps without a tenant slot, and a {tenant} segment takes the tenant", () => {
    expect(secretPath(readOnlyLayout("apps"), { namespace: "company.team", key: "api" })).toBe(
      "apps/company/team/api",
    );
    expect(secretPath(readOnlyLayout(""), { namespace: "", key: "api" })).toBe("api");
    expect(secretPath(readOnlyLayout("t/{tenant}/kv"), { tenant: "acme", namespace: "a", key: "api" })).toBe(
      "t/acme/kv/a/api",
    );
  });

  it("refuses a tenant without {tenant} and {tenant} without a tenant (else acme/K and ns acme's K would meet)", () => {
    expect(() => secretPath(readOnlyLayout("apps"), { tenant: "acme", namespace: "", key: "K" })).toThrow(
      ConfigurationError,
    );
    expect(() => secretPath(readOnlyLayout("{tenant}"), { namespace: "acme", key: "K" })).toThrow(
      ConfigurationError,
    );
  });

  it("property: injective and reversible, with and without {tenant}", () => {
    assertBijective(readOnlyLayout("apps"), refWith(fc.constant(undefined)));
    assertBijective(readOnlyLayout(""), refWith(fc.constant(undefined)));
    assertBijective(readOnlyLayout("x/{tenant}/y"), refWith(tenant));
  });
});

describe("path options", () => {
  it("accepts segments of A-Z a-z 0-9 _ . - and ignores outer slashes", () => {
    expect(pathSegments("/a/b.c/d-e_f/", "prefix")).toEqual(["a", "b.c", "d-e_f"]);
    expect(pathSegments("", "prefix")).toEqual([]);
  });

  it("refuses traversal, odd characters and a misplaced {tenant}", () => {
    for (const bad of ["a/../b", ".", "a b", "a?x", "a%2f", "{tenant}"]) {
      expect(() => pathSegments(bad, "prefix")).toThrow(ConfigurationError);
    }
    expect(() => pathSegments("{tenant}/{tenant}", "readOnlyPath", true)).toThrow(ConfigurationError);
    expect(pathSegments("x/{tenant}", "readOnlyPath", true)).toEqual(["x", "{tenant}"]);
  });
});
