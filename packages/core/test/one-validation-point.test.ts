// Trust issue #18 point 2, "one validation point": every path that takes a reference (memoized or
// not, cached or not, crowded or not; resolve, resolveMany, render, explain, check-like explain,
// watch) answers exactly what validating the ref and then resolving it on a fresh router answers.
// Before the fix, `{ tenant: "" }` was refused until its key had been read in more than 8
// namespaces; then the crowded plan map served the untenanted secret.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  invalidKey,
  invalidNamespace,
  invalidTenant,
  validKey,
  validNamespace,
} from "../../../test/reliability/support/hostile.js";
import {
  createMemoryBackend,
  createResolver,
  createRouter,
  isSecretsError,
  isValidKey,
  isValidNamespace,
  type Router,
  refId,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  type SecretResolver,
  SecretValue,
  validateRef,
} from "../src/internal.js";

/** What a call gave: a value's text, a typed error's name, or (a watch) that it started. */
type Outcome = { value: string } | { error: string } | { started: true };

async function outcome(run: () => Promise<SecretValue | string>): Promise<Outcome> {
  try {
    const result = await run();
    return { value: typeof result === "string" ? result : result.reveal() };
  } catch (error) {
    // Every failure must be typed: an untyped one fails the comparison by its own name.
    return { error: isSecretsError(error) ? error.name : `untyped ${String((error as Error)?.name)}` };
  }
}

/** The secrets: the same key spelled in several cases, prototype names as keys, a tenant's copy. */
function backends() {
  const root = createMemoryBackend({
    name: "root",
    initial: {
      "/DB": "root-db-secret-value",
      "/__proto__": "root-proto-secret",
      "/constructor": "root-constructor-secret",
      "/toString": "root-tostring-secret",
      "/CRED": '{"user":"svc-a","__proto__":"proto-leaf-secret","5":"five-leaf","":"empty-leaf"}',
    },
  });
  const company = createMemoryBackend({ name: "company", initial: { "company/DB": "company-db-secret" } });
  const acme = createMemoryBackend({ name: "acme" });
  return { root, company, acme };
}

async function freshRouter(): Promise<Router> {
  const b = backends();
  await b.acme.put?.({ tenant: "acme", namespace: "", key: "DB" }, "acme-tenant-db-secret");
  await b.acme.put?.({ tenant: "acme", namespace: "", key: "__proto__" }, "acme-tenant-proto-secret");
  return createRouter({
    backends: b,
    rules: [
      { match: "", backend: "root" },
      { match: "company", backend: "company" },
      { match: "", tenant: "acme", backend: "acme" },
    ],
    retry: { attempts: 1 },
  });
}

async function freshResolver(): Promise<SecretResolver> {
  return createResolver({ backend: backends().root, retry: { attempts: 1 } });
}

/** The oracle: validate, then resolve the validated copy on a router that has memoized nothing. */
async function expected(
  fresh: () => Promise<SecretResolver>,
  input: unknown,
  subkey?: unknown,
): Promise<Outcome> {
  let ref: SecretRef;
  try {
    ref = validateRef(input);
    if (subkey !== undefined && typeof subkey !== "string") return { error: "InvalidReferenceError" };
  } catch (error) {
    return { error: isSecretsError(error) ? error.name : "untyped" };
  }
  const resolver = await fresh();
  try {
    return await outcome(() =>
      resolver.resolve(ref, subkey === undefined ? undefined : { subkey: subkey as string }),
    );
  } finally {
    await resolver.close();
  }
}

/** The fields as a path reads them (a plain read of each, like validateRef). */
function fields(input: unknown): { tenant: unknown; namespace: unknown; key: unknown } | undefined {
  if (typeof input !== "object" || input === null) return undefined;
  const { tenant, namespace, key } = input as Record<string, unknown>;
  return { tenant, namespace, key };
}

/**
 * Reads the ref's key in more than 8 namespaces, with and without a tenant, so its plans are
 * memoized, chained and then crowded, and its entries cached, before the paths are asked.
 */
async function warm(resolver: SecretResolver, input: unknown): Promise<void> {
  const f = fields(input);
  if (!f || !isValidKey(f.key)) return;
  const namespaces = ["company.w1", "company.w2", "w3", "w4", "w5", "w6.a", "w7", "w8", "w9", "w10", ""];
  if (isValidNamespace(f.namespace)) namespaces.push(f.namespace);
  for (const namespace of namespaces)
    for (const tenant of [undefined, "acme"]) {
      const ref = tenant === undefined ? { namespace, key: f.key } : { tenant, namespace, key: f.key };
      await resolver.resolve(ref).catch(() => {});
      await resolver.resolve(ref).catch(() => {}); // the second read is a memoized hit
    }
}

/** A Kestra string literal holding `text` (the template scanner's escapes). */
function literal(text: string): string {
  const body = text
    .replace(/\\/g, "\\\\")
    .replace(/'/g, "\\'")
    .replace(/\n/g, "\\n")
    .replace(/\r/g, "\\r")
    .replace(/\t/g, "\\t");
  return `'${body}'`;
}

// Hostile values, each next to the valid one it is confused with.
const tenants = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(undefined, "") },
  fc.constantFrom<unknown>(undefined, undefined, "acme", "", "ACME", " acme", "acme ", "acme|x", "other"),
  fc.constantFrom<unknown>("__proto__", "constructor", 5, null, new String("acme"), {
    toString: () => "acme",
  }),
  invalidTenant,
);
const namespaces = fc.oneof(
  fc.constantFrom<unknown>("", "company", "company.team", "company.team.a", "w3", "w6.a", "x.y"),
  fc.constantFrom<unknown>(undefined, "a..b", ".company", "company.", "company|team", "|company", " company"),
  fc.constantFrom<unknown>("company\n", "__proto__", "constructor", 7, null, new String("company")),
  validNamespace,
  invalidNamespace,
);
/** A sub-key is any string (a JSON key); anything else is not one. */
const subkeys = fc.constantFrom<unknown>(undefined, "user", "", "__proto__", "constructor", "5", 5, null, [
  "user",
]);
const keys = fc.oneof(
  fc.constantFrom<unknown>(
    "DB",
    "DB",
    "CRED",
    "db",
    "Db",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
  ),
  fc.constantFrom<unknown>(" DB", "DB ", "D|B", "DB|", "|DB", "D@B", "DB@1", "", "DB\0", "\uff24B"),
  fc.constantFrom<unknown>(5, null, undefined, new String("DB"), ["DB"], { toString: () => "DB" }),
  validKey,
  invalidKey,
);
/** A ref as an executor might pass it: a plain object, one without a prototype, inherited fields. */
const refs = fc.oneof(
  { weight: 6, arbitrary: fc.record({ tenant: tenants, namespace: namespaces, key: keys }) },
  {
    weight: 1,
    arbitrary: fc.record({ tenant: tenants, namespace: namespaces, key: keys }).map((r) => {
      const bare = Object.create(null) as Record<string, unknown>;
      Object.assign(bare, r);
      return bare;
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ namespace: namespaces, key: keys }).map((r) => Object.create(r) as unknown),
  },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, "company/DB", 42, ["DB"]) },
);

/** Refs one field away from a valid one, in the ways ids and maps confuse them. */
const CONFUSABLE: unknown[] = [
  { tenant: "", namespace: "", key: "DB" },
  { tenant: "", namespace: "company", key: "DB" },
  { tenant: "acme|", namespace: "", key: "DB" },
  { tenant: undefined, namespace: "acme|", key: "DB" },
  { namespace: undefined, key: "DB" },
  { namespace: "|", key: "DB" },
  { namespace: "company|DB", key: "" },
  { namespace: "", key: "DB@1" },
  { namespace: "", key: "db" },
  { namespace: "", key: "__proto__" },
  { tenant: "__proto__", namespace: "", key: "DB" },
  { namespace: "", key: new String("DB") },
  Object.create({ namespace: "", key: "DB" }),
];

describe("trust issue #18 point 2: one validation point", () => {
  it("every router path gives what validate-then-resolve gives, warm or cold, crowded or not", async () => {
    await fc.assert(
      fc.asyncProperty(refs, fc.boolean(), subkeys, async (input, warmFirst, subkey) => {
        const router = await freshRouter();
        try {
          if (warmFirst) await warm(router, input);
          const want = await expected(freshRouter, input);
          const ref = input as SecretRef;
          const f = fields(input);
          const same = async (path: string, got: Outcome) =>
            expect({ path, ...got }).toEqual({ path, ...want });

          await same("resolve", await outcome(() => router.resolve(ref)));
          await same("resolve again", await outcome(() => router.resolve(ref)));
          await same("resolve with options", await outcome(() => router.resolve(ref, {})));
          await same(
            "resolve as its own caller",
            await outcome(() => router.resolve(ref, { caller: f?.namespace as string })),
          );
          await same(
            "resolveMany",
            await outcome(async () => {
              const got = (await router.resolveMany([ref])).get(ref);
              if (got === undefined || isSecretsError(got)) throw got;
              return got;
            }),
          );
          if (f && typeof f.key === "string")
            await same(
              "render",
              await outcome(() =>
                router.render(`{{ secret(${literal(f.key as string)}) }}`, {
                  namespace: f.namespace as string,
                  tenant: f.tenant as string,
                }),
              ),
            );
          for (const [path, options] of [
            ["explain", undefined],
            ["check-like explain", { caller: f?.namespace as string }],
          ] as const) {
            const explanation = await router.explain(ref, options);
            const got: Outcome =
              explanation.status === "found"
                ? { value: (await router.resolve(validateRef(ref))).reveal() }
                : { error: explanation.error?.name ?? "no error" };
            await same(path, got);
          }
          const wantLeaf = await expected(freshRouter, input, subkey);
          const sameLeaf = (path: string, got: Outcome) =>
            expect({ path, ...got }).toEqual({ path, ...wantLeaf });
          sameLeaf(
            "resolve of a sub-key",
            await outcome(() => router.resolve(ref, { subkey: subkey as string })),
          );
          if (f && typeof f.key === "string" && typeof subkey === "string")
            sameLeaf(
              "render of a sub-key",
              await outcome(() =>
                router.render(`{{ secret(${literal(f.key as string)}, subkey=${literal(subkey)}) }}`, {
                  namespace: f.namespace as string,
                  tenant: f.tenant as string,
                }),
              ),
            );
          let watched: Outcome;
          try {
            router.watch(ref, () => {}, { intervalMs: 3_600_000 }).close();
            watched = { started: true };
          } catch (error) {
            watched = { error: isSecretsError(error) ? error.name : "untyped" };
          }
          const refused =
            "error" in want && ["InvalidReferenceError", "ConfigurationError"].includes(want.error);
          expect({ path: "watch", ...watched }).toEqual({
            path: "watch",
            ...(refused ? want : { started: true }),
          });
        } finally {
          await router.close();
        }
      }),
      { numRuns: 200, examples: CONFUSABLE.map((ref) => [ref, true, undefined]) },
    );
  }, 60_000);

  it("a single resolver's memoized path gives what validate-then-resolve gives", async () => {
    await fc.assert(
      fc.asyncProperty(refs, fc.boolean(), subkeys, async (input, warmFirst, subkey) => {
        const resolver = await freshResolver();
        try {
          if (warmFirst) await warm(resolver, input);
          const want = await expected(freshResolver, input);
          const ref = input as SecretRef;
          expect({ path: "resolve", ...(await outcome(() => resolver.resolve(ref))) }).toEqual({
            path: "resolve",
            ...want,
          });
          expect({
            path: "resolve with options",
            ...(await outcome(() => resolver.resolve(ref, {}))),
          }).toEqual({ path: "resolve with options", ...want });
          expect({
            path: "resolve of a sub-key",
            ...(await outcome(() => resolver.resolve(ref, { subkey: subkey as string }))),
          }).toEqual({ path: "resolve of a sub-key", ...(await expected(freshResolver, input, subkey)) });
        } finally {
          await resolver.close();
        }
      }),
      { numRuns: 200, examples: CONFUSABLE.map((ref) => [ref, true, undefined]) },
    );
  }, 60_000);

  it("the crowded plan map never serves an empty tenant the untenanted secret (the reported case)", async () => {
    const router = await freshRouter();
    for (let i = 0; i < 10; i++) await router.resolve({ namespace: `n${i}`, key: "DB" });
    for (let i = 0; i < 10; i++)
      await expect(router.resolve({ tenant: "", namespace: `n${i}`, key: "DB" })).rejects.toMatchObject({
        name: "InvalidReferenceError",
      });
    await router.close();
  });

  it("ruleFor answers the same whatever was asked before: an empty tenant is not 'no tenant'", async () => {
    const router = await freshRouter();
    expect(router.ruleFor("company")?.backend).toBe("company");
    expect(router.ruleFor("company", "")).toBeUndefined();
    expect(router.ruleFor("", "acme|")).toBeUndefined();
    expect(router.ruleFor(42 as unknown as string)).toBeUndefined();
    await router.close();
  });

  it("render checks the flow's namespace even when the text has no secret() call", async () => {
    const router = await freshRouter();
    for (const namespace of [undefined, "a..b", " company", 7])
      await expect(
        router.render("plain text", { namespace: namespace as unknown as string }),
      ).rejects.toMatchObject({ name: "InvalidReferenceError" });
    await router.close();
  });

  it("watches of two backends whose names and ids join alike poll each its own backend", async () => {
    // Backend "a|b" serving app/K and backend "a" serving tenant b's app/K once shared one poller.
    const probed = new Map<string, number>();
    const waiters: Array<() => void> = [];
    const counting = (name: string) => {
      const inner = createMemoryBackend({ name });
      const probe = inner.probeVersion?.bind(inner);
      // Polled (no subscribe): each backend's own poll is what is counted.
      return Object.assign(inner, {
        subscribe: undefined,
        probeVersion: async (ref: SecretRef, options: { signal?: AbortSignal }) => {
          probed.set(name, (probed.get(name) ?? 0) + 1);
          for (const wake of waiters.splice(0)) wake();
          return (probe as NonNullable<typeof probe>)(ref, options);
        },
      });
    };
    const pipe = counting("a|b");
    const plain = counting("a");
    await pipe.put?.({ namespace: "app", key: "K" }, "pipe-backend-value");
    await plain.put?.({ tenant: "b", namespace: "app", key: "K" }, "tenant-b-value");
    const router = createRouter({
      backends: { "a|b": pipe, a: plain },
      rules: [
        { match: "", backend: "a|b" },
        { match: "", tenant: "b", backend: "a" },
      ],
    });
    const first = router.watch({ namespace: "app", key: "K" }, () => {}, { intervalMs: 5 });
    const second = router.watch({ tenant: "b", namespace: "app", key: "K" }, () => {}, { intervalMs: 5 });
    while ((probed.get("a|b") ?? 0) < 3) await new Promise<void>((wake) => waiters.push(wake));
    expect(probed.get("a") ?? 0).toBeGreaterThan(0);
    first.close();
    second.close();
    await router.close();
  });

  it("a backend whose keys ignore case: invalidating one spelling drops the cached others", async () => {
    // The env backend reads SECRET_DB for `db`, `Db` and `DB`: one secret under three cache ids.
    let value = "first-db-password";
    const insensitive: SecretBackend = {
      name: "insensitive",
      capabilities: { ...createMemoryBackend().capabilities, write: false, caseSensitiveKeys: false },
      async get(ref) {
        if (ref.key.toUpperCase() !== "DB") throw new SecretNotFoundError(ref.key);
        return SecretValue.fromText(value);
      },
    };
    const router = createRouter({ backends: { env: insensitive }, rules: [{ match: "", backend: "env" }] });
    for (const key of ["db", "Db", "DB"])
      expect((await router.resolve({ namespace: "app", key })).reveal()).toBe(value);
    value = "rotated-db-password";
    router.invalidate({ namespace: "app", key: "DB" }); // what a watch of `DB` does on a change
    for (const key of ["db", "Db", "DB"])
      expect((await router.resolve({ namespace: "app", key })).reveal()).toBe("rotated-db-password");
    await router.close();
  });

  it("refId is injective over every ref, valid or not (a version after `@` included)", () => {
    // Strings made mostly of the separators, the escape and the version mark, to collide if anything can.
    const text = fc.string({ unit: fc.constantFrom("|", "\\", "@", "a", ""), maxLength: 6 });
    const ref = fc.record(
      { tenant: fc.option(text, { nil: undefined }), namespace: text, key: text },
      { requiredKeys: ["namespace", "key"] },
    );
    const version = fc.option(text, { nil: undefined });
    const idOf = ([r, v]: [SecretRef, string | undefined]) =>
      v === undefined ? refId(r) : `${refId(r)}@${v}`;
    fc.assert(
      fc.property(fc.tuple(ref, version), fc.tuple(ref, version), (a, b) => {
        const same =
          a[0].tenant === b[0].tenant &&
          a[0].namespace === b[0].namespace &&
          a[0].key === b[0].key &&
          a[1] === b[1];
        expect(idOf(a) === idOf(b)).toBe(same);
      }),
      {
        numRuns: 5000,
        examples: [
          [
            [{ tenant: "", namespace: "n", key: "K" }, undefined],
            [{ namespace: "n", key: "K" }, undefined],
          ],
        ],
      },
    );
  });

  it("{{ envs.name }} reads own names only: constructor, __proto__ and toString are not set", async () => {
    const router = createRouter({
      backends: { root: createMemoryBackend() },
      rules: [{ match: "", backend: "root" }],
      envs: { home: "/home/app", constructor: "own-constructor" },
    });
    expect(await router.render("{{ envs.home }} {{ envs.constructor }}", { namespace: "a" })).toBe(
      "/home/app own-constructor",
    );
    const bare = createRouter({
      backends: { root: createMemoryBackend() },
      rules: [{ match: "", backend: "root" }],
    });
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"])
      await expect(bare.render(`{{ envs.${name} }}`, { namespace: "a" })).rejects.toMatchObject({
        name: "TemplateError",
      });
    await router.close();
    await bare.close();
  });
});
