// One resolve path (issue #19 point 2): `keyway check` (explain), resolve, resolveMany and render
// take a ref's levels from the same plan and climb them the same way, so on any set of rules they
// agree on the value, on where it was found, and on the error. Property-tested over crowded
// configurations: tenants, inheritance, allow lists, a global backend, replicas, failing backends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  type AuditEvent,
  BackendUnavailableError,
  createRouter,
  type Explanation,
  isSecretsError,
  type RouteRule,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "../src/index.js";

const NAMESPACES = ["", "a", "a.b", "a.b.c", "x", "x.y"] as const;
const READ_AT = [...NAMESPACES, "a.b.c.d", "x.z"] as const;
const TENANTS = [undefined, "acme"] as const;
const KEYS = ["K", "J"] as const;
const PLAIN = ["m1", "m2", "m3"] as const;
const BACKENDS = [...PLAIN, "g"] as const;

type Answer = "value" | "unavailable" | "denied";
/** What a backend holds: `tenant|namespace/key` (a global backend: `key`) → its answer. */
type Table = Record<string, Answer>;

const cell = (tenant: string | undefined, namespace: string, key: string) =>
  `${tenant ?? ""}|${namespace}/${key}`;

/** A backend answering from a table; a global one (like env) ignores namespace and tenant. */
function tableBackend(name: string, table: Table, global: boolean): SecretBackend {
  return {
    name,
    capabilities: {
      write: false,
      list: false,
      batch: false,
      versions: false,
      caseSensitiveKeys: true,
      maxValueBytes: 1024,
      global,
    },
    async get(ref: SecretRef) {
      const id = global ? ref.key : cell(ref.tenant, ref.namespace, ref.key);
      const answer = Object.hasOwn(table, id) ? table[id] : undefined;
      if (answer === undefined) throw new SecretNotFoundError(ref.key);
      if (answer === "unavailable") throw new BackendUnavailableError(`${name} is down`, { backend: name });
      if (answer === "denied") throw new AccessDeniedError(`${name} refused`, { backend: name });
      // Distinct per backend and level, so a value from the wrong level shows.
      return SecretValue.fromText(`value of ${name} at ${id}`);
    },
  };
}

const answer = fc.constantFrom<Answer | undefined>(
  undefined,
  undefined,
  "value",
  "value",
  "unavailable",
  "denied",
);

const tableArb = (global: boolean): fc.Arbitrary<Table> => {
  const cells = global
    ? KEYS.map((k) => k as string)
    : TENANTS.flatMap((t) => READ_AT.flatMap((ns) => KEYS.map((k) => cell(t, ns, k))));
  return fc
    .tuple(...cells.map(() => answer))
    .map((answers) =>
      Object.fromEntries(cells.flatMap((c, i) => (answers[i] === undefined ? [] : [[c, answers[i]]]))),
    );
};

const ruleArb: fc.Arbitrary<RouteRule> = fc
  .record({
    match: fc.constantFrom(...NAMESPACES),
    tenant: fc.constantFrom(...TENANTS),
    backend: fc.constantFrom(...BACKENDS),
    fallback: fc.option(fc.subarray([...PLAIN]), { nil: undefined }),
    allowedNamespaces: fc.option(fc.subarray(["a", "a.b", "x", "x.y"]), { nil: undefined }),
  })
  .map((r) => ({
    match: r.match,
    backend: r.backend,
    ...(r.tenant === undefined ? {} : { tenant: r.tenant, shared: true }),
    ...(r.fallback?.length ? { fallback: r.fallback.filter((name) => name !== r.backend) } : {}),
    ...(r.allowedNamespaces === undefined ? {} : { allowedNamespaces: r.allowedNamespaces }),
  }));

const configArb = fc.record({
  rules: fc.uniqueArray(ruleArb, {
    minLength: 1,
    maxLength: 8,
    selector: (r) => `${r.tenant ?? ""}|${r.match}`,
  }),
  tables: fc.record({ m1: tableArb(false), m2: tableArb(false), m3: tableArb(false), g: tableArb(true) }),
});

const readArb = fc.record({
  tenant: fc.constantFrom(...TENANTS),
  namespace: fc.constantFrom(...READ_AT),
  key: fc.constantFrom(...KEYS),
  caller: fc.option(fc.constantFrom(...READ_AT), { nil: undefined }),
  inherit: fc.constantFrom(undefined, true, false),
});

type Config = { rules: RouteRule[]; tables: Record<(typeof BACKENDS)[number], Table> };

/** A fresh router (its own caches and breakers) over the config, recording its audit events. */
function build(config: Config) {
  const events: AuditEvent[] = [];
  const backends = Object.fromEntries(
    BACKENDS.map((name) => [name, tableBackend(name, config.tables[name], name === "g")]),
  );
  const router = createRouter({
    backends,
    rules: config.rules,
    retry: { attempts: 1 },
    // The routers compared here make different numbers of calls (resolve reads twice), so a
    // breaker would open in one and not the other: the breaker has its own tests.
    breaker: { threshold: 0 },
    audit: (event) => {
      events.push(event);
    },
  });
  return { router, events };
}

/** What a read gave: the value's text and where it came from, or the error's code and class. */
type Outcome = { value: string; foundIn: string | undefined; backend: string | undefined } | { code: string };

async function outcome(read: Promise<unknown>, events: AuditEvent[]): Promise<Outcome> {
  try {
    const value = await read;
    const last = events.at(-1);
    return {
      value: typeof value === "string" ? value : (value as SecretValue).reveal(),
      foundIn: last?.foundIn,
      backend: last?.backend,
    };
  } catch (error) {
    if (!isSecretsError(error)) throw error;
    return { code: error.code };
  }
}

const STATUS: Readonly<Record<string, Explanation["status"]>> = {
  NOT_FOUND: "missing",
  ACCESS_DENIED: "denied",
  UNAVAILABLE: "unavailable",
};

describe("one resolve path: explain, resolve, resolveMany and render agree (property)", () => {
  it("on crowded rules: tenants, inheritance, allow lists, a global backend, replicas", async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(readArb, { minLength: 1, maxLength: 6 }),
        async (config, reads) => {
          const resolving = build(config);
          const explaining = build(config);
          const rendering = build(config);
          try {
            for (const read of reads) {
              const ref: SecretRef = { tenant: read.tenant, namespace: read.namespace, key: read.key };
              const options = { caller: read.caller, inherit: read.inherit };
              const resolved = await outcome(resolving.router.resolve(ref, options), resolving.events);
              // Again, from the same router's caches and memos: the same answer.
              expect(await outcome(resolving.router.resolve(ref, options), resolving.events)).toEqual(
                resolved,
              );

              const explained = await explaining.router.explain(ref, options);
              if ("value" in resolved) {
                expect(explained).toEqual({
                  status: "found",
                  namespace: resolved.foundIn,
                  backend: resolved.backend,
                });
              } else {
                expect(explained.status).toBe(STATUS[resolved.code] ?? "invalid");
                expect(explained.error?.code).toBe(resolved.code);
              }

              if (read.inherit === false) continue; // a template always climbs
              const caller = read.caller ?? read.namespace;
              const template = `{{ secret('${read.key}', namespace='${read.namespace}') }}`;
              const rendered = await outcome(
                rendering.router.render(template, { namespace: caller, tenant: read.tenant }),
                rendering.events,
              );
              expect(rendered).toEqual(resolved);

              if (read.caller !== undefined) continue;
              const many = build(config);
              const results = await many.router.resolveMany([ref]);
              const result = results.get(ref);
              expect(
                isSecretsError(result)
                  ? { code: result.code }
                  : {
                      value: result?.reveal(),
                      foundIn: many.events.at(-1)?.foundIn,
                      backend: many.events.at(-1)?.backend,
                    },
              ).toEqual(resolved);
              await many.router.close();
            }
          } finally {
            await Promise.all([
              resolving.router.close(),
              explaining.router.close(),
              rendering.router.close(),
            ]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
