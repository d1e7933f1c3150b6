import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  AllBackendsFailedError,
  BackendUnavailableError,
  ConfigurationError,
  createMemoryBackend,
  createRouter,
  MultipleSecretsError,
  ReadOnlyError,
  type RouteRule,
  type SecretBackend,
  SecretNotFoundError,
} from "../src/index.js";
import { fakeClock, scriptedBackend } from "./helpers.js";

const memory = (initial: Record<string, string>, name = "memory") => createMemoryBackend({ initial, name });

function router(backends: Record<string, SecretBackend>, rules: RouteRule[]) {
  return createRouter({ backends, rules, retry: { attempts: 1 } });
}

describe("router: rules and inheritance", () => {
  const backends = () => ({
    root: memory({ "/SHARED": "root-shared", "/ROOT_ONLY": "r" }),
    company: memory({ "company/SHARED": "company-shared", "company/DB": "company-db" }),
    team: memory({ "company.team/DB": "team-db" }),
  });
  const rules: RouteRule[] = [
    { match: "", backend: "root" },
    { match: "company", backend: "company" },
    { match: "company.team", backend: "team" },
  ];

  it("climbs from the namespace to the root; the nearest wins (a child overrides its parent)", async () => {
    const r = router(backends(), rules);
    expect((await r.resolve({ namespace: "company.team.a", key: "DB" })).reveal()).toBe("team-db");
    expect((await r.resolve({ namespace: "company.team.a", key: "SHARED" })).reveal()).toBe("company-shared");
    expect((await r.resolve({ namespace: "company.team.a", key: "ROOT_ONLY" })).reveal()).toBe("r");
    expect((await r.resolve({ namespace: "company.other", key: "DB" })).reveal()).toBe("company-db");
  });

  it("matches whole segments only: company.team never serves company.teamx", async () => {
    const r = router(backends(), rules);
    expect(r.ruleFor("company.teamx")?.match).toBe("company");
    expect(r.ruleFor("company.team.x")?.match).toBe("company.team");
  });

  it("a missing key everywhere is not found, with Kestra's message", async () => {
    const r = router(backends(), rules);
    await expect(r.resolve({ namespace: "company.team", key: "NOPE" })).rejects.toThrow(
      "Cannot find secret for key 'NOPE'.",
    );
  });

  it("an unavailable child backend does not fall through to the parent's value", async () => {
    const down = scriptedBackend({ DB: new BackendUnavailableError("connection reset") }, { name: "team" });
    const r = router({ ...backends(), team: down }, rules);
    await expect(r.resolve({ namespace: "company.team", key: "DB" })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it("denied stops the climb too", async () => {
    const denied = scriptedBackend({ DB: new AccessDeniedError("no") }, { name: "team" });
    const r = router({ ...backends(), team: denied }, rules);
    await expect(r.resolve({ namespace: "company.team", key: "DB" })).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
  });

  it("misses are negative-cached per level: a second climb costs no backend call (Kestra #5970)", async () => {
    const levels = {
      root: scriptedBackend({}, { name: "root" }),
      team: scriptedBackend({}, { name: "team" }),
    };
    const r = router(levels, [
      { match: "", backend: "root" },
      { match: "company.team", backend: "team" },
    ]);
    for (let i = 0; i < 3; i++) await r.resolve({ namespace: "company.team.a", key: "X" }).catch(() => {});
    expect(levels.team.calls).toHaveLength(2); // company.team.a and company.team, once each
    expect(levels.root.calls).toHaveLength(2); // company and the root, once each
  });

  it("a missing sub-key does not fall back to a parent namespace", async () => {
    const r = router(
      { root: memory({ "/J": '{"a":"root"}' }), team: memory({ "company.team/J": '{"b":"team"}' }) },
      [
        { match: "", backend: "root" },
        { match: "company.team", backend: "team" },
      ],
    );
    await expect(r.resolve({ namespace: "company.team", key: "J" }, { subkey: "a" })).rejects.toThrow(
      "Cannot find secret sub-key 'a' in secret 'J'.",
    );
  });
});

describe("router: inherit: false (the ref's own namespace only)", () => {
  const rules: RouteRule[] = [
    { match: "", backend: "root" },
    { match: "company.team", backend: "team" },
  ];
  const setup = (team: Record<string, string | BackendUnavailableError> = {}) => {
    const root = scriptedBackend({ PARENT_ONLY: "from-root", BOTH: "root-both" }, { name: "root" });
    const own = scriptedBackend({ BOTH: "team-both", ...team }, { name: "team" });
    return { root, team: own, r: router({ root, team: own }, rules) };
  };
  const ref = (key: string) => ({ namespace: "company.team.a", key });

  it("a key only in a parent is not found, and the parent's backend is never asked", async () => {
    const { root, team, r } = setup();
    for (let i = 0; i < 2; i++) {
      await expect(r.resolve(ref("PARENT_ONLY"), { inherit: false })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    }
    expect(await r.explain(ref("PARENT_ONLY"), { inherit: false })).toMatchObject({
      status: "missing",
      namespace: "company.team.a",
      backend: "team",
    });
    expect(root.calls).toEqual([]);
    expect(team.calls).toEqual(["PARENT_ONLY"]); // the own level once; then its cached not-found
  });

  it("asks the own level even when the namespace's rule is an ancestor's, and never climbs from it", async () => {
    const r = router({ root: memory({ "a/K": "in-a" }, "root") }, [{ match: "", backend: "root" }]);
    await expect(r.resolve({ namespace: "a.b", key: "K" }, { inherit: false })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    expect((await r.resolve({ namespace: "a", key: "K" }, { inherit: false })).reveal()).toBe("in-a");
    expect((await r.resolve({ namespace: "a.b", key: "K" })).reveal()).toBe("in-a");
  });

  it("explain reports the own level when found there, through the rule's replicas", async () => {
    const { r } = setup();
    expect(await r.explain(ref("BOTH"), { inherit: false })).toEqual({
      status: "found",
      namespace: "company.team.a",
      backend: "team",
    });
    const primary = scriptedBackend({ K: new BackendUnavailableError("down") }, { name: "primary" });
    const replica = scriptedBackend({ K: "from-replica" }, { name: "replica" });
    const parent = scriptedBackend({ K: "from-parent" }, { name: "parent" });
    const withReplica = router({ primary, replica, parent }, [
      { match: "", backend: "parent" },
      { match: "x", backend: "primary", fallback: ["replica"] },
    ]);
    expect(await withReplica.explain({ namespace: "x", key: "K" }, { inherit: false })).toEqual({
      status: "found",
      namespace: "x",
      backend: "replica",
    });
    expect((await withReplica.resolve({ namespace: "x", key: "K" }, { inherit: false })).reveal()).toBe(
      "from-replica",
    );
    expect(parent.calls).toEqual([]);
  });

  it("a failure at the own level is reported as usual; a failing parent is not asked", async () => {
    const { r } = setup({ DOWN: new BackendUnavailableError("connection reset") });
    await expect(r.resolve(ref("DOWN"), { inherit: false })).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(await r.explain(ref("DOWN"), { inherit: false })).toMatchObject({
      status: "unavailable",
      namespace: "company.team.a",
      backend: "team",
    });

    const root = scriptedBackend({ K: new BackendUnavailableError("root is down") }, { name: "root" });
    const team = scriptedBackend({}, { name: "team" });
    const broken = router({ root, team }, rules);
    expect(await broken.explain(ref("K"), { inherit: false })).toMatchObject({ status: "missing" });
    expect(root.calls).toEqual([]);
    // The default still climbs into the failing parent and says so.
    expect(await broken.explain(ref("K"))).toMatchObject({ status: "unavailable" });
    expect(root.calls).toEqual(["K"]);
  });

  it("the default (and inherit: true) still climbs, before and after an own-level read", async () => {
    const { root, r } = setup();
    await expect(r.resolve(ref("PARENT_ONLY"), { inherit: false })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    expect((await r.resolve(ref("PARENT_ONLY"))).reveal()).toBe("from-root");
    expect((await r.resolve(ref("PARENT_ONLY"), { inherit: true })).reveal()).toBe("from-root");
    expect(await r.explain(ref("PARENT_ONLY"))).toEqual({
      status: "found",
      namespace: "company",
      backend: "root",
    });
    // Cached now at every level: the own level still answers not found, synchronously from the cache.
    const calls = root.calls.length;
    await expect(r.resolve(ref("PARENT_ONLY"), { inherit: false })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    expect(root.calls).toHaveLength(calls);
    expect((await r.resolve(ref("BOTH"), { inherit: false })).reveal()).toBe("team-both");
  });

  it("a caller reading another namespace gets that namespace only", async () => {
    const { root, r } = setup();
    await expect(
      r.resolve(ref("PARENT_ONLY"), { inherit: false, caller: "company.team.a.job" }),
    ).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(root.calls).toEqual([]);
    expect((await r.resolve(ref("PARENT_ONLY"), { caller: "company.team.a.job" })).reveal()).toBe(
      "from-root",
    );
  });
});

describe("router: the memo of a level's last hit", () => {
  const ref = { namespace: "team", key: "K" };

  it("is not served once a write through the router replaced the value", async () => {
    const r = router({ m: memory({ "team/K": "v1" }) }, [{ match: "", backend: "m" }]);
    for (let i = 0; i < 3; i++) expect((await r.resolve(ref)).reveal()).toBe("v1"); // memoized
    await r.put(ref, "v2");
    expect((await r.resolve(ref)).reveal()).toBe("v2");
    r.invalidate(ref);
    await r.delete(ref);
    await expect(r.resolve(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("keeps a memoized not-found only for the negative TTL: a child's new value then overrides", async () => {
    const clock = fakeClock();
    const parent = memory({ "company/K": "parent" }, "parent");
    const child = memory({}, "child");
    const r = createRouter({
      backends: { parent, child },
      rules: [
        { match: "company", backend: "parent" },
        { match: "company.team", backend: "child" },
      ],
      cache: { negativeTtlMs: 1000, clock },
    });
    const get = async () => (await r.resolve({ namespace: "company.team", key: "K" })).reveal();
    for (let i = 0; i < 3; i++) expect(await get()).toBe("parent"); // the child's not-found memoized
    await child.put?.({ namespace: "company.team", key: "K" }, "child"); // behind the router's back
    clock.advance(999);
    expect(await get()).toBe("parent");
    clock.advance(2); // past the expiry instant (lru-cache still holds an entry at that instant)
    expect(await get()).toBe("child");
  });

  it("is not served once the entry was evicted, and keeps a memoized key recently used", async () => {
    const clock = fakeClock();
    const backend = memory({ "team/K": "k1", "team/A": "a", "team/B": "b" });
    const r = createRouter({
      backends: { m: backend },
      rules: [{ match: "", backend: "m" }],
      cache: { maxEntries: 2, clock },
    });
    const get = async (key: string) => (await r.resolve({ namespace: "team", key })).reveal();
    await get("K");
    await get("K"); // memoized from here
    await get("A");
    clock.advance(1);
    await get("K"); // a memo hit renews K's recency, so B evicts A, not K
    await get("B");
    const calls = r.stats().backendCalls;
    expect(await get("K")).toBe("k1");
    expect(r.stats().backendCalls).toBe(calls);
    await get("A"); // evicts K
    await backend.put?.(ref, "k2");
    expect(await get("K")).toBe("k2");
  });
});

describe("router: cross-namespace reads (namespace='…')", () => {
  const backends = () => ({
    root: memory({}),
    fin: memory({ "company.finance/LEDGER": "ledger-key" }),
    team: memory({ "company.team/T": "t" }),
  });
  const rules: RouteRule[] = [
    { match: "", backend: "root" },
    { match: "company.finance", backend: "fin", allowedNamespaces: ["company.audit"] },
    { match: "company.team", backend: "team" },
  ];

  it("a sibling namespace is denied before any backend call", async () => {
    const r = router(backends(), rules);
    await expect(
      r.resolve({ namespace: "company.finance", key: "LEDGER" }, { caller: "company.team" }),
    ).rejects.toBeInstanceOf(AccessDeniedError);
    expect(r.stats().backendCalls).toBe(0);
  });

  it("allowedNamespaces lets the listed namespace and those below it read", async () => {
    const r = router(backends(), rules);
    for (const caller of ["company.audit", "company.audit.q3"]) {
      expect((await r.resolve({ namespace: "company.finance", key: "LEDGER" }, { caller })).reveal()).toBe(
        "ledger-key",
      );
    }
  });

  it("a caller may always read its own ancestors", async () => {
    const r = router({ ...backends(), root: memory({ "company/C": "c" }) }, rules);
    expect((await r.resolve({ namespace: "company", key: "C" }, { caller: "company.team.x" })).reveal()).toBe(
      "c",
    );
  });
});

describe("router: tenants", () => {
  const backends = () => ({
    acme: memory({ "company/K": "acme-without-tenant" }),
    globex: memory({ "company/K": "globex-without-tenant" }),
    plain: memory({ "company/K": "no-tenant-value" }),
  });
  const rules: RouteRule[] = [
    { match: "", backend: "plain" },
    { match: "", tenant: "acme", backend: "acme" },
    { match: "", tenant: "globex", backend: "globex" },
  ];

  it("a tenant never reads another tenant's secret (property)", async () => {
    const b = backends();
    await b.acme.put?.({ tenant: "acme", namespace: "company", key: "K" }, "acme-value");
    await b.globex.put?.({ tenant: "globex", namespace: "company", key: "K" }, "globex-value");
    const r = router(b, rules);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("acme", "globex", undefined), async (tenant) => {
        const value = await r.resolve({ tenant, namespace: "company", key: "K" }).then((v) => v.reveal());
        expect(value).toBe(
          tenant === "acme" ? "acme-value" : tenant === "globex" ? "globex-value" : "no-tenant-value",
        );
      }),
    );
  });

  it("a tenant with no rule is a configuration error, never another tenant's rule", async () => {
    const r = router(backends(), rules);
    await expect(r.resolve({ tenant: "initech", namespace: "company", key: "K" })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });

  it("a tenant rule may use a backend that ignores tenants only with shared: true", () => {
    const globalBackend = { ...memory({}), capabilities: { ...memory({}).capabilities, global: true } };
    expect(() => router({ env: globalBackend }, [{ match: "", tenant: "acme", backend: "env" }])).toThrow(
      /shared: true/,
    );
    expect(() =>
      router({ env: globalBackend }, [{ match: "", tenant: "acme", backend: "env", shared: true }]),
    ).not.toThrow();
  });
});

describe("router: replicas", () => {
  it("asks replicas in order only when the primary is unavailable", async () => {
    const primary = scriptedBackend({ K: new BackendUnavailableError("timeout") }, { name: "primary" });
    const replica = scriptedBackend({ K: "from-replica" }, { name: "replica" });
    const r = router({ primary, replica }, [{ match: "", backend: "primary", fallback: ["replica"] }]);
    expect((await r.resolve({ namespace: "a", key: "K" })).reveal()).toBe("from-replica");
  });

  it("does not ask replicas when the primary says not found or denied", async () => {
    const primary = scriptedBackend({ D: new AccessDeniedError("no") }, { name: "primary" });
    const replica = scriptedBackend({ K: "x", D: "x" }, { name: "replica" });
    const r = router({ primary, replica }, [{ match: "", backend: "primary", fallback: ["replica"] }]);
    await expect(r.resolve({ namespace: "a", key: "K" })).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(r.resolve({ namespace: "a", key: "D" })).rejects.toBeInstanceOf(AccessDeniedError);
    expect(replica.calls).toHaveLength(0);
  });

  it("when all fail, says so with each backend's reason, never not-found", async () => {
    const a = scriptedBackend({ K: new BackendUnavailableError("primary timed out") }, { name: "a" });
    const b = scriptedBackend({ K: new BackendUnavailableError("replica refused") }, { name: "b" });
    const r = router({ a, b }, [{ match: "", backend: "a", fallback: ["b"] }]);
    const error = await r.resolve({ namespace: "x", key: "K" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AllBackendsFailedError);
    expect((error as Error).message).toMatch(/a: primary timed out.*b: replica refused/);
  });
});

describe("router: prepare", () => {
  /** A memory backend whose `prepare` runs `ready` (after a tick, so the calls overlap). */
  const preparing = (name: string, ready: (options: unknown) => Promise<void>, initial = {}) =>
    Object.assign(memory(initial, name), {
      async prepare(options: unknown) {
        await new Promise((r) => setTimeout(r, 5));
        await ready(options);
      },
    });

  it("readies every backend, replicas too, once each and at once; one without prepare is fine", async () => {
    const prepared: unknown[] = [];
    const ready = async (options: unknown) => void prepared.push(options);
    const signal = new AbortController().signal;
    const r = router({ a: preparing("a", ready), b: preparing("b", ready), plain: memory({}, "plain") }, [
      { match: "", backend: "a", fallback: ["b"] },
      { match: "p", backend: "plain" },
    ]);
    await r.prepare({ signal });
    expect(prepared).toEqual([{ signal }, { signal }]);
  });

  it("waits for every backend, then rejects with the first failure in backends order, typed and named", async () => {
    let slowDone = false;
    const r = router(
      {
        ok: preparing("ok", async () => {
          await new Promise((done) => setTimeout(done, 30));
          slowDone = true;
        }),
        broken: preparing("broken", async () => {
          throw new Error("Cannot find module '@vendor/sdk'");
        }),
        denied: preparing("denied", async () => {
          throw new AccessDeniedError("The login was refused.", { backend: "denied" });
        }),
      },
      [
        { match: "", backend: "ok" },
        { match: "b", backend: "broken" },
        { match: "d", backend: "denied" },
      ],
    );
    const error = await r.prepare().catch((e: unknown) => e);
    expect(slowDone).toBe(true);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error).toMatchObject({ backend: "broken", message: "Backend 'broken' could not be made ready." });
  });

  it("the caller's signal ends the wait, even for a backend that ignores it", async () => {
    const hang = preparing("hang", () => new Promise<void>(() => {}));
    const r = router({ hang }, [{ match: "", backend: "hang" }]);
    for (const signal of [AbortSignal.timeout(20), AbortSignal.abort()]) {
      const error = await r.prepare({ signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error).toMatchObject({
        backend: "hang",
        message: "Preparing backend 'hang' was aborted by the caller.",
      });
    }
  });

  it("a failure is redacted like any error: a value resolved before does not show", async () => {
    const value = "value-resolved-earlier-7f3a";
    let attempts = 0;
    const backend = preparing(
      "m",
      async () => {
        attempts++;
        throw new AccessDeniedError(`The role may not read '${value}'.`, { backend: "m" });
      },
      { "/K": value },
    );
    const r = router({ m: backend }, [{ match: "", backend: "m" }]);
    expect((await r.resolve({ namespace: "", key: "K" })).reveal()).toBe(value);
    const error = await r.prepare().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(String(error)).not.toContain(value);
    expect(attempts).toBe(1);
  });
});

describe("router: writes", () => {
  const setup = () =>
    router({ rw: memory({}), ro: memory({}) }, [
      { match: "", backend: "rw" },
      { match: "company.finance", backend: "ro", readOnly: true },
    ]);

  it("writes go to the namespace's own rule and invalidate the cache", async () => {
    const r = setup();
    const ref = { namespace: "company.team", key: "K" };
    await expect(r.resolve(ref)).rejects.toBeInstanceOf(SecretNotFoundError); // negative-cached
    await r.put(ref, "v1");
    expect((await r.resolve(ref)).reveal()).toBe("v1");
    await r.put(ref, "v2");
    expect((await r.resolve(ref)).reveal()).toBe("v2");
    await r.delete(ref);
    await expect(r.resolve(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("a readOnly rule refuses writes with a read-only error, and never writes (property)", async () => {
    const r = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("company.finance", "company.finance.x.y"),
        fc.string({ minLength: 1 }),
        async (ns, v) => {
          await expect(r.put({ namespace: ns, key: "K" }, v)).rejects.toBeInstanceOf(ReadOnlyError);
          await expect(r.delete({ namespace: ns, key: "K" })).rejects.toBeInstanceOf(ReadOnlyError);
        },
      ),
      { numRuns: 20 },
    );
    expect(await r.list("company.finance")).toEqual([]);
  });

  it("a read-only backend refuses writes", async () => {
    const readOnly = scriptedBackend({}, { name: "ro" });
    const r = router({ ro: readOnly }, [{ match: "", backend: "ro" }]);
    await expect(r.put({ namespace: "", key: "K" }, "v")).rejects.toBeInstanceOf(ReadOnlyError);
  });
});

describe("router: list", () => {
  it("lists own keys, and with inherited the ancestors' keys with their namespace, children first", async () => {
    const r = router(
      {
        root: memory({ "/A": "1", "/B": "2" }),
        team: memory({ "company.team/B": "3", "company.team/C": "4" }),
      },
      [
        { match: "", backend: "root" },
        { match: "company.team", backend: "team" },
      ],
    );
    expect((await r.list("company.team")).map((k) => k.key)).toEqual(["B", "C"]);
    const inherited = await r.list("company.team", { inherited: true });
    expect(inherited.map((k) => [k.key, k.namespace])).toEqual([
      ["B", "company.team"],
      ["C", "company.team"],
      ["A", ""],
    ]);
  });
});

describe("router: rule validation", () => {
  it.each([
    [[{ match: "a..b", backend: "m" }], /Invalid namespace/],
    [[{ match: "", backend: "nope" }], /backend 'nope' is not defined/],
    [[{ match: "", backend: "m", fallback: ["nope"] }], /backend 'nope' is not defined/],
    [
      [
        { match: "a", backend: "m" },
        { match: "a", backend: "m" },
      ],
      /same match and tenant/,
    ],
    [[{ match: "", backend: "m", allowedNamespaces: ["../x"] }], /allowedNamespaces/],
  ] as const)("rejects %j", (rules, message) => {
    expect(() => router({ m: memory({}) }, rules as unknown as RouteRule[])).toThrow(message);
  });
});

describe("router: render", () => {
  const setup = () =>
    createRouter({
      backends: {
        root: memory({ "/ROOT_TOKEN": "root-token-value", "/JSON": '{"user":"admin","pass":"p@ss{{ x }}"}' }),
        team: memory({
          "company.team/API_TOKEN": "team-token-value",
          "company.team/TRICKY": "{{ evil() }}'\"\\\n",
        }),
      },
      rules: [
        { match: "", backend: "root" },
        { match: "company.team", backend: "team" },
      ],
      envs: { region: "eu-west-1" },
    });

  it("renders secrets with inheritance, and envs, and leaves other tags byte for byte", async () => {
    const text = [
      "token: {{ secret('API_TOKEN') }}",
      'root: {{secret(key="ROOT_TOKEN")}}',
      "user: {{ secret('JSON', subkey='user') }}",
      "region: {{ envs.region }}",
      "{% if x %}{{ other }}{% endif %} {# comment secret('NOPE') #}",
      "{{ secret('API_TOKEN') | upper }}",
    ].join("\n");
    const out = await setup().render(text, { namespace: "company.team.flows" });
    expect(out).toBe(
      [
        "token: team-token-value",
        "root: root-token-value",
        "user: admin",
        "region: eu-west-1",
        "{% if x %}{{ other }}{% endif %} {# comment secret('NOPE') #}",
        "{{ secret('API_TOKEN') | upper }}",
      ].join("\n"),
    );
  });

  it("reports every missing secret in one error", async () => {
    const error = await setup()
      .render("{{ secret('A') }} {{ secret('B') }} {{ secret('C') }} {{ secret('API_TOKEN') }}", {
        namespace: "company.team",
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MultipleSecretsError);
    expect((error as Error).message).toBe("Cannot find 3 secrets: 'A', 'B', 'C'.");
  });

  it("errorOnMissing=false renders empty instead of failing (Kestra PR #18021)", async () => {
    expect(await setup().render("[{{ secret('NOPE', errorOnMissing=false) }}]", { namespace: "x" })).toBe(
      "[]",
    );
  });

  it("full=true gives value and metadata as JSON; not allowed with subkey", async () => {
    const out = await setup().render("{{ secret('ROOT_TOKEN', full=true) }}", { namespace: "x" });
    expect(JSON.parse(out)).toMatchObject({ value: "root-token-value", metadata: { version: "1" } });
    await expect(
      setup().render("{{ secret('JSON', subkey='user', full=true) }}", { namespace: "x" }),
    ).rejects.toThrow(/'full' cannot be used together with 'subkey'/);
  });

  it("an unset envs.name is an error naming it", async () => {
    await expect(setup().render("{{ envs.nope }}", { namespace: "x" })).rejects.toThrow(
      /envs.nope is not set.*ENV_NOPE/,
    );
  });

  it("namespace='…' reads another namespace only when allowed", async () => {
    await expect(
      setup().render("{{ secret('API_TOKEN', namespace='company.team') }}", { namespace: "company.other" }),
    ).rejects.toBeInstanceOf(AccessDeniedError);
    expect(
      await setup().render("{{ secret('ROOT_TOKEN', namespace='') }}", { namespace: "company.team" }),
    ).toBe("root-token-value");
  });

  it("registers every rendered value with the redactor", async () => {
    const r = setup();
    await r.render("{{ secret('API_TOKEN') }}", { namespace: "company.team" });
    expect(r.redactor.redact("log: team-token-value")).toBe("log: ******");
  });

  it("resolves a template's secrets at once: one batch request for a batching backend", async () => {
    const batching = scriptedBackend(
      Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`K${i}`, `v${i}`])),
      {
        batch: true,
        name: "b",
      },
    );
    const r = createRouter({ backends: { b: batching }, rules: [{ match: "", backend: "b" }] });
    const text = Array.from({ length: 30 }, (_, i) => `{{ secret('K${i}') }}`).join(",");
    expect(await r.render(text, { namespace: "" })).toBe(
      Array.from({ length: 30 }, (_, i) => `v${i}`).join(","),
    );
    expect(batching.batchCalls).toHaveLength(1);
  });
});
