// Isolation, as properties (fast-check) checked against a model written here from the README's
// rules: a namespace never reads a sibling's secret, a tenant never reads another tenant's, the
// cache never serves one ref's value for another ref, a read-only rule never writes, and a scoped
// redactor never reveals whether a guess matches another scope's secret. Then the same for
// tenants and namespaces against the real servers, and the name mappings of all four cloud
// backends (Azure's names are case-insensitive) are shown injective. Last, `keyway run`'s child:
// it gets none of what Keyway holds (trust issue #18 point 1), checked against a model and with
// a task that tries the Vault token it used to inherit against the real OpenBao.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { createAwsBackend, parseSecretName, secretName } from "@keyway/backend-aws";
import { credentialVariables as awsCredentials } from "@keyway/backend-aws/definition";
import { decodeName, encodeName } from "@keyway/backend-azure";
import { credentialVariables as azureCredentials } from "@keyway/backend-azure/definition";
import { decodeSecretId, encodeSecretId } from "@keyway/backend-gcp";
import { credentialVariables as gcpCredentials } from "@keyway/backend-gcp/definition";
import { credentialVariables as vaultCredentials } from "@keyway/backend-vault/definition";
import {
  AccessDeniedError,
  ConfigurationError,
  createMemoryBackend,
  createRedactor,
  createResolver,
  createRouter,
  derivedForms,
  ReadOnlyError,
  type RouteRule,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "@keyway/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { managedLayout, refFromPath, secretPath } from "../../packages/backend-vault/src/names.js";
import {
  BASIC_VARIABLES,
  childEnvFlags,
  childEnvironment,
} from "../../packages/cli/src/commands/child-env.js";
import { heldVariables } from "../../packages/cli/src/held.js";
import { runCli } from "../../packages/cli/src/index.js";
import { tempDir } from "../setup/temp-dirs.js";
import { BACKENDS, directBackend, runId, seed, serverInfo } from "./support/backends.js";
import { expectValue, watchUnhandledRejections } from "./support/checks.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
watchUnhandledRejections();

const within = (ns: string, ancestor: string) =>
  ancestor === "" || ns === ancestor || ns.startsWith(`${ancestor}.`);
const chain = (ns: string) => {
  const out = [ns];
  while (out.at(-1) !== "") {
    const last = out.at(-1) as string;
    out.push(last.includes(".") ? last.slice(0, last.lastIndexOf(".")) : "");
  }
  return out;
};

/** Counts a checked outcome, and a wrong value if `ok` is false for a value. */
function checked(ok: boolean, isValue: boolean): void {
  count("resolvesChecked");
  if (!ok && isValue) count("wrongValues");
}

describe("namespaces and tenants, against a model", () => {
  const RULES: RouteRule[] = [
    { match: "", backend: "m" },
    { match: "a", backend: "m" },
    { match: "a.b", backend: "m2", allowedNamespaces: ["c"] },
    { match: "c", backend: "m" },
    { match: "", tenant: "t1", backend: "m" },
    { match: "a", tenant: "t2", backend: "m2" },
    { match: "d", tenant: "t2", backend: "m", allowedNamespaces: ["a.b"] },
  ];
  const ruleFor = (ns: string, tenant: string | undefined) =>
    RULES.filter((r) => r.tenant === tenant && within(ns, r.match)).sort(
      (x, y) => y.match.length - x.match.length,
    )[0];
  const mayRead = (caller: string, target: string, tenant: string | undefined) =>
    within(caller, target) ||
    (ruleFor(target, tenant)?.allowedNamespaces ?? []).some((a) => within(caller, a));

  /** What the router must answer, from the README's rules alone. */
  function expected(
    stored: Map<string, string>,
    ref: SecretRef,
    caller: string | undefined,
  ): { value: string } | { error: new (...args: never[]) => Error } {
    const who = caller ?? ref.namespace;
    if (who !== ref.namespace && !mayRead(who, ref.namespace, ref.tenant))
      return { error: AccessDeniedError };
    let served = false;
    for (const level of chain(ref.namespace)) {
      const rule = ruleFor(level, ref.tenant);
      if (!rule || !mayRead(who, level, ref.tenant)) continue;
      served = true;
      const value = stored.get(`${ref.tenant ?? ""}|${rule.backend}|${level}|${ref.key}`);
      if (value !== undefined) return { value };
    }
    return { error: served ? SecretNotFoundError : ConfigurationError };
  }

  const segment = fc.constantFrom("a", "b", "c", "d");
  const namespace = fc.array(segment, { maxLength: 3 }).map((s) => s.join("."));
  const tenant = fc.constantFrom(undefined, undefined, "t1", "t2", "t3");
  const key = fc.constantFrom("K1", "K2", "k1");
  const ref = fc
    .record({ tenant, namespace, key })
    .map((r): SecretRef => (r.tenant === undefined ? { namespace: r.namespace, key: r.key } : r));

  it("every answer is the model's: a sibling's or another tenant's secret is never returned", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(ref, { maxLength: 14, selector: (r) => `${r.tenant}|${r.namespace}|${r.key}` }),
        fc.array(fc.tuple(ref, fc.option(namespace, { nil: undefined })), { minLength: 1, maxLength: 25 }),
        async (secrets, queries) => {
          const backends = { m: createMemoryBackend({ name: "m" }), m2: createMemoryBackend({ name: "m2" }) };
          const stored = new Map<string, string>();
          for (const s of secrets) {
            const rule = ruleFor(s.namespace, s.tenant);
            if (!rule) continue;
            const value = `value-of|${s.tenant ?? "-"}|${s.namespace}|${s.key}`;
            await backends[rule.backend as "m" | "m2"].put?.(s, value);
            stored.set(`${s.tenant ?? ""}|${rule.backend}|${s.namespace}|${s.key}`, value);
          }
          const router = createRouter({ backends, rules: RULES, cache: { negativeTtlMs: 60_000 } });
          try {
            // Each query twice: from the backend, then from the cache.
            for (const [q, caller] of [...queries, ...queries]) {
              const want = expected(stored, q, caller);
              const got = await router.resolve(q, { caller }).then(
                (v) => ({ value: v.reveal() }),
                (e: unknown) => ({ thrown: e }),
              );
              const ok =
                "value" in want
                  ? "value" in got && got.value === want.value
                  : "thrown" in got && got.thrown instanceof want.error;
              checked(ok, "value" in got);
              expect(
                ok,
                `${JSON.stringify(q)} as ${caller}: got ${JSON.stringify("value" in got ? got : String(got.thrown))}, want ${"value" in want ? want.value : want.error.name}`,
              ).toBe(true);
            }
          } finally {
            await router.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a read-only rule never writes, whatever is asked", async () => {
    const writes = { n: 0 };
    const spy = (backend: SecretBackend): SecretBackend => ({
      ...backend,
      get: backend.get.bind(backend),
      put: async (...args) => {
        writes.n++;
        return backend.put?.(...args);
      },
      delete: async (...args) => {
        writes.n++;
        return backend.delete?.(...args);
      },
    });
    const inner = createMemoryBackend({ initial: { "ro/K": "original", "ro.deep/K": "deep-original" } });
    const router = createRouter({
      backends: { ro: spy(inner), rw: spy(createMemoryBackend()) },
      rules: [
        { match: "", backend: "rw" },
        { match: "ro", backend: "ro", readOnly: true },
      ],
    });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("ro", "ro.deep", "ro.x.y"),
        fc.constantFrom("K", "NEW"),
        fc.constantFrom("put", "delete"),
        fc.string(),
        async (ns, k, op, value) => {
          const target = { namespace: ns, key: k };
          const error = await (op === "put" ? router.put(target, value) : router.delete(target)).catch(
            (e: unknown) => e,
          );
          count("invalidTried");
          if (error instanceof ReadOnlyError) count("invalidRejected");
          expect(error).toBeInstanceOf(ReadOnlyError);
        },
      ),
      { numRuns: 100 },
    );
    expect(writes.n).toBe(0);
    count("invalidBackendCalls", writes.n);
    expect((await inner.get({ namespace: "ro", key: "K" })).reveal()).toBe("original");
    expect((await inner.get({ namespace: "ro.deep", key: "K" })).reveal()).toBe("deep-original");
    await router.close();
  });
});

describe("a ref read twice", () => {
  // Found by this suite: the router compared `caller` with `ref.namespace` and then read the ref
  // again to plan the lookup, so a ref whose `namespace` getter answers differently the second time
  // read a namespace the caller may not read. The ref must be read (and validated) once.
  it("cannot pass the caller check with one namespace and read another", async () => {
    const router = createRouter({
      backends: { m: createMemoryBackend({ initial: { "team.a/K": "a-value", "team.b/K": "b-secret" } }) },
      rules: [{ match: "", backend: "m" }],
    });
    let reads = 0;
    const shifty = {
      key: "K",
      get namespace() {
        reads++;
        return reads === 1 ? "team.a" : "team.b";
      },
    } as SecretRef;
    const outcome = await router.resolve(shifty, { caller: "team.a" }).then(
      (v) => v.reveal(),
      (e: unknown) => e,
    );
    const leaked = outcome === "b-secret";
    checked(!leaked, typeof outcome === "string");
    expect(leaked, "team.a read team.b's secret").toBe(false);
    await router.close();
  });
});

describe("the cache never serves one ref's value for another", () => {
  // Near-collisions on purpose: case, '-' and '_', tenant or not, a segment or a key.
  const refs: SecretRef[] = [
    { namespace: "", key: "K" },
    { namespace: "", key: "k" },
    { namespace: "a", key: "K" },
    { namespace: "A", key: "K" },
    { namespace: "a-b", key: "K" },
    { namespace: "a_b", key: "K" },
    { namespace: "a.b", key: "K" },
    { namespace: "a", key: "b" },
    { tenant: "a", namespace: "", key: "K" },
    { tenant: "a", namespace: "a", key: "K" },
    { tenant: "a-b", namespace: "", key: "K" },
    { tenant: "ab", namespace: "", key: "K" },
  ];
  type Op = { kind: "put" | "get" | "invalidate" | "many"; at: number; version: number };

  it("through random puts, reads, batch reads and invalidations", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            kind: fc.constantFrom<Op["kind"]>("put", "get", "get", "invalidate", "many"),
            at: fc.nat(refs.length - 1),
            version: fc.nat(1000),
          }),
          { maxLength: 40 },
        ),
        async (ops) => {
          const backend = createMemoryBackend();
          const model = new Map<number, string>();
          const router = createRouter({
            backends: { m: backend },
            rules: [
              { match: "", backend: "m" },
              { match: "", tenant: "a", backend: "m" },
              { match: "", tenant: "a-b", backend: "m" },
              { match: "", tenant: "ab", backend: "m" },
            ],
            cache: { negativeTtlMs: 60_000 },
          });
          // The value of the nearest level that holds the key (inheritance), same tenant.
          const valueFor = (r: SecretRef) => {
            for (const level of chain(r.namespace)) {
              const at = refs.findIndex(
                (x) => x.tenant === r.tenant && x.namespace === level && x.key === r.key,
              );
              if (at !== -1 && model.has(at)) return model.get(at);
            }
            return undefined;
          };
          const check = (i: number, got: SecretValue | unknown) => {
            const want = valueFor(refs[i] as SecretRef);
            const ok =
              want === undefined
                ? got instanceof SecretNotFoundError
                : got instanceof SecretValue && got.reveal() === want;
            checked(ok, got instanceof SecretValue);
            expect(
              ok,
              `${JSON.stringify(refs[i])}: ${got instanceof SecretValue ? got.reveal() : String(got)} vs ${want}`,
            ).toBe(true);
          };
          try {
            for (const op of ops) {
              const target = refs[op.at] as SecretRef;
              if (op.kind === "put") {
                const value = `v${op.version}-of-${JSON.stringify(target)}`;
                await router.put(target, value);
                model.set(op.at, value);
              } else if (op.kind === "invalidate") router.invalidate(target);
              else if (op.kind === "get") check(op.at, await router.resolve(target).catch((e: unknown) => e));
              else {
                const many = await router.resolveMany(refs);
                for (const [i, r] of refs.entries()) check(i, many.get(r));
              }
            }
          } finally {
            await router.close();
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("a batch read of 45 refs through AWS (3 BatchGetSecretValue calls) maps every value to its ref", async () => {
    const scope = runId();
    const direct = directBackend("moto", scope);
    const many: Array<[SecretRef, string]> = Array.from({ length: 45 }, (_, i) => [
      { namespace: i % 2 ? "batch.a" : "batch.b", key: `K${i % 15}${i % 3 === 0 ? "" : `_${i}`}` },
      `batch-${i}-${runId()}`,
    ]);
    const unique = new Map(many.map(([r, v]) => [`${r.namespace}|${r.key}`, [r, v] as const]));
    for (const [r, v] of unique.values()) await direct.put?.(r, v);
    await direct.close?.();
    const moto = serverInfo("moto");
    const resolver = createResolver({
      backend: createAwsBackend({
        region: moto.extra.region ?? "us-east-1",
        endpoint: moto.endpoint,
        credentials: { type: "static", accessKeyId: "test", secretAccessKey: "test" },
        prefix: `rel-${scope}`,
      }),
    });
    const list = [...unique.values()];
    const results = await resolver.resolveMany(list.map(([r]) => r));
    for (const [r, v] of list) {
      const got = results.get(r);
      if (!(got instanceof SecretValue)) throw got;
      expectValue(got, v, `${r.namespace}/${r.key}`);
    }
    count("backendCalls", resolver.stats().backendCalls);
    await resolver.close();
  });
});

describe("the name mappings are injective", () => {
  const valid = fc.record({
    tenant: fc.option(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), { nil: undefined }),
    namespace: fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{1,6}$/), { maxLength: 3 }).map((s) => s.join(".")),
    key: fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/),
  });
  const same = (a: SecretRef, b: SecretRef) =>
    a.tenant === b.tenant && a.namespace === b.namespace && a.key === b.key;
  const strip = (r: SecretRef): SecretRef =>
    r.tenant === undefined ? { namespace: r.namespace, key: r.key } : r;

  it("AWS, GCP, Vault and Azure (case-insensitively) give distinct refs distinct names, and read them back", () => {
    const layout = managedLayout("kw");
    fc.assert(
      fc.property(valid, valid, (x, y) => {
        const [a, b] = [strip(x), strip(y)];
        const names = {
          aws: [secretName("kw", a), secretName("kw", b)],
          gcp: [encodeSecretId("kw", a), encodeSecretId("kw", b)],
          vault: [secretPath(layout, a), secretPath(layout, b)],
          azure: [encodeName("kw", a).toLowerCase(), encodeName("kw", b).toLowerCase()],
        };
        for (const [, [na, nb]] of Object.entries(names)) expect(na === nb).toBe(same(a, b));
        expect(parseSecretName("kw", secretName("kw", a))).toEqual(a);
        expect(decodeSecretId(encodeSecretId("kw", a))).toMatchObject({ prefix: "kw", ...a });
        expect(refFromPath(layout, secretPath(layout, a))).toEqual(a);
        expect(decodeName(encodeName("kw", a))).toMatchObject({ prefix: "kw", ...a });
      }),
      { numRuns: 2_000 },
    );
  });
});

describe.each(BACKENDS)("tenants and namespaces on %s stay apart", (kind) => {
  it("same key in two tenants, no tenant, a child and a sibling namespace, other case: each reads its own", async () => {
    const scope = runId();
    const backend = directBackend(kind, scope);
    const refs: SecretRef[] = [
      { tenant: "t1", namespace: "team", key: "TOKEN" },
      { tenant: "t2", namespace: "team", key: "TOKEN" },
      { namespace: "team", key: "TOKEN" },
      { namespace: "team.child", key: "TOKEN" },
      { namespace: "teams", key: "TOKEN" },
      { namespace: "team", key: "token" },
      { tenant: "t1", namespace: "", key: "TOKEN" },
    ];
    const values = refs.map((r) => `${kind}|${r.tenant ?? "-"}|${r.namespace}|${r.key}|${runId()}`);
    try {
      for (const [i, r] of refs.entries()) await backend.put?.(r, values[i] as string);
      for (const [i, r] of refs.entries())
        expectValue(await backend.get(r), values[i] as string, JSON.stringify(r));
      const listed = await backend.list?.("team", { tenant: "t1" });
      expect(listed?.map((l) => l.key)).toEqual(["TOKEN"]);
      const untenanted = await backend.list?.("team");
      expect(untenanted?.map((l) => l.key).sort()).toEqual(["TOKEN", "token"]);
      // A tenant that wrote nothing sees nothing.
      const error = await backend
        .get({ tenant: "t3", namespace: "team", key: "TOKEN" })
        .catch((e: unknown) => e);
      checked(error instanceof SecretNotFoundError, error instanceof SecretValue);
      expect(error).toBeInstanceOf(SecretNotFoundError);
    } finally {
      await backend.close?.();
    }
  });
});

describe("scoped redactors", () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9+/=_.-]{8,24}$/);
  it("one scope's redactor masks nothing of another scope's secret, whatever the text", () => {
    fc.assert(
      fc.property(secret, secret, fc.string(), fc.string(), (mine, theirs, before, after) => {
        fc.pre(!mine.includes(theirs) && !theirs.includes(mine));
        const a = createRedactor({ onWarning: () => {} });
        const b = createRedactor({ onWarning: () => {} });
        const control = createRedactor({ onWarning: () => {} });
        a.register(mine);
        control.register(mine);
        b.register(theirs);
        // Guesses at the other scope's secret, in its encodings too.
        const { plain, encoded } = derivedForms(theirs);
        for (const guess of [theirs, ...plain, ...encoded, `${theirs}x`]) {
          const text = `${before}${guess}${after}`;
          count("leakChecks");
          const differs = a.redact(text) !== control.redact(text);
          if (differs) count("leaksFound");
          expect(differs, "scope A's output depends on scope B's secret").toBe(false);
        }
        // ...and B's does mask it: the scopes are apart, not broken.
        expect(b.redact(`x ${theirs} y`)).not.toContain(theirs);
      }),
      { numRuns: 300 },
    );
  });

  it("two routers with their own redactors: resolving in one registers nothing in the other", async () => {
    const one = createRouter({
      backends: { m: createMemoryBackend({ initial: { "t/K": "tenant-one-secret-value" } }) },
      rules: [{ match: "", backend: "m" }],
    });
    const two = createRouter({
      backends: { m: createMemoryBackend({ initial: { "t/K": "tenant-two-secret-value" } }) },
      rules: [{ match: "", backend: "m" }],
    });
    await one.resolve({ namespace: "t", key: "K" });
    await two.resolve({ namespace: "t", key: "K" });
    expect(two.redactor.redact("tenant-one-secret-value")).toBe("tenant-one-secret-value");
    expect(one.redactor.redact("tenant-two-secret-value")).toBe("tenant-two-secret-value");
    expect(one.redactor.redact("tenant-one-secret-value")).toBe("******");
    await one.close();
    await two.close();
  });
});

describe("keyway run's child gets nothing Keyway holds (trust issue #18 point 1)", () => {
  // Every credential variable the backends list, as the README's table gives them.
  const lists = [awsCredentials, vaultCredentials, azureCredentials, gcpCredentials];
  const listed = lists.flatMap((list) => [...list.secret, ...list.locator]);
  const exact = listed.filter((name) => !name.endsWith("*"));
  const prefixes = [
    "SECRET_",
    ...listed.filter((name) => name.endsWith("*")).map((name) => name.slice(0, -1)),
  ];
  const isHeld = (name: string, configVars: readonly string[]) =>
    exact.includes(name) || configVars.includes(name) || prefixes.some((prefix) => name.startsWith(prefix));
  const isBasic = (name: string) =>
    BASIC_VARIABLES.some((basic) =>
      basic.endsWith("*") ? name.startsWith(basic.slice(0, -1)) : name === basic,
    );

  const name = fc.oneof(
    fc.constantFrom(...exact, ...BASIC_VARIABLES.filter((b) => !b.endsWith("*")), "LC_ALL", "MY_APP"),
    fc
      .constantFrom(...prefixes)
      .chain((prefix) => fc.stringMatching(/^[A-Z0-9_]{0,8}$/).map((rest) => prefix + rest)),
    fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/),
  );
  // Hostile values: quotes, newlines, `=`, long runs, unicode; never a NUL (no real environment holds one).
  const value = fc.string({ unit: "grapheme", maxLength: 40 }).filter((v) => !v.includes("\0"));

  it("the child's environment is the model's, for random parents, config variables, --keep-env and --clean-env", async () => {
    const held = await heldVariables(undefined);
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(name, value, { maxKeys: 25 }),
        fc.uniqueArray(name, { maxLength: 3 }),
        fc.uniqueArray(fc.oneof(name, fc.constantFrom("SECRET_*", "AWS_*", "MY_*")), { maxLength: 3 }),
        fc.boolean(),
        fc.array(fc.tuple(name, value), { maxLength: 3 }),
        async (parent, configVars, keep, clean, secrets) => {
          const pairs = secrets.map(([n], i) => `${n}=K${i}`);
          const flags = childEnvFlags({ env: pairs, keepEnv: keep, cleanEnv: clean });
          const withConfig = await heldVariables({
            variables: configVars,
            credentials: { secret: [], locator: [] },
          });
          const child = childEnvironment(
            parent,
            flags,
            secrets.map(([, v]) => v),
            configVars.length ? withConfig : held,
          );
          const kept = (n: string) =>
            keep.some((k) => (k.endsWith("*") ? n.startsWith(k.slice(0, -1)) : n === k));
          const expected: Record<string, string> = {};
          for (const [n, v] of Object.entries(parent))
            if (kept(n) || (clean ? isBasic(n) : !isHeld(n, configVars))) expected[n] = v;
          for (const [n, v] of secrets) expected[n] = v;
          count("leakChecks");
          expect(child).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("a task of company.team-a cannot use Keyway's Vault token to read company.team-b (real OpenBao)", async () => {
    const scope = runId();
    const bao = serverInfo("openbao");
    const teamA = { namespace: "company.team-a", key: "API_KEY" };
    const teamB = { namespace: "company.team-b", key: "DB_PASSWORD" };
    const teamBValue = `team-b-db-password-${runId()}`;
    await seed("openbao", scope, [
      [teamA, `team-a-api-key-${runId()}`],
      [teamB, teamBValue],
    ]);
    const dir = await tempDir("keyway-isolation-run-");
    await writeFile(
      path.join(dir, "keyway.yaml"),
      `backends:\n  vault: { type: vault, endpoint: "http://127.0.0.1:${bao.port}", prefix: rel-${scope} }\n` +
        `namespaces:\n  - { match: "", backend: vault }\n`,
    );
    // The task: uses whatever Vault token it inherited on team-b's path, as the issue's attacker did.
    const url = `http://127.0.0.1:${bao.port}/v1/secret/data/${secretPath(managedLayout(`rel-${scope}`), teamB)}`;
    const task = `
const token = process.env.VAULT_TOKEN;
if (!token) { console.log("no token; has API_KEY: " + (process.env.API_KEY !== undefined)); process.exit(0); }
fetch(${JSON.stringify(url)}, { headers: { "X-Vault-Token": token } })
  .then((r) => r.json())
  .then((body) => console.log("read " + JSON.stringify(body)));
`;
    const out: Buffer[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        out.push(Buffer.from(chunk));
        done();
      },
    });
    const code = await runCli(
      ["run", "-n", "company.team-a", "--env", "API_KEY=API_KEY", "--", process.execPath, "-e", task],
      {
        stdin: Readable.from([]),
        stdout: sink,
        stderr: sink,
        env: { PATH: process.env.PATH, VAULT_TOKEN: bao.extra.rootToken ?? "root" },
        cwd: dir,
      },
    );
    const output = Buffer.concat(out).toString("utf8");
    count("leakChecks");
    if (output.includes(teamBValue)) count("leaksFound");
    expect(output).not.toContain(teamBValue);
    expect([code, output]).toEqual([0, "no token; has API_KEY: true\n"]);
  });
});
