// Trust issue #18 point 3, "every returned value is registered": a value served from the cache
// after the redactor dropped its registration (maxValues, maxAgeMs) came back unmasked, although
// the resolver is meant to register values on every use. Every path that returns a value is read,
// the registration is dropped (an injected clock for maxAgeMs: nothing waits), and the value read
// again must be masked.
import { describe, expect, it } from "vitest";
import {
  BackendUnavailableError,
  createMemoryBackend,
  createRedactor,
  createResolver,
  createRouter,
  type Redactor,
  type SecretValue,
} from "../src/index.js";
import { fakeClock, scriptedBackend } from "./helpers.js";

// Realistic values: a JSON credential (with a sub-key), a token with base64 look-alikes, a URL.
const JSON_CREDENTIAL = '{"user":"svc-deploy","password":"p@ss\\\\w0rd\\"quoted\\"-9f8e7d6c"}';
const TOKEN = "ghp_4bT9xQ2mZ7LkP0vW3sR8yN1cF6hJ5dA2eG9u";
const URL_SECRET = "postgres://app:s3cr3t%2Fpass@db.internal:5432/prod?sslmode=require";

/** The redactor is told to forget: the oldest registrations roll over, or their age runs out. */
type Forget = (redactor: Redactor, clock: ReturnType<typeof fakeClock>) => void;
const ROLL_OVER: Forget = (redactor) => {
  for (let i = 0; i < 3; i++) redactor.register(`unrelated-secret-value-${i}-${"x".repeat(i + 8)}`);
};
const AGE_OUT: Forget = (_, clock) => clock.advance(5_000);

function setup() {
  const clock = fakeClock();
  // maxValues 3 and maxAgeMs 4s, on the cache's clock; the cache keeps values for an hour.
  const redactor = createRedactor({ maxValues: 3, maxAgeMs: 4_000, clock });
  const backend = createMemoryBackend({
    name: "memory",
    initial: { "company/CRED": JSON_CREDENTIAL, "company/TOKEN": TOKEN, "/URL": URL_SECRET },
  });
  const cache = { ttlMs: 3_600_000, jitter: 0, clock };
  const router = createRouter({
    backends: { memory: backend },
    rules: [{ match: "", backend: "memory" }],
    cache,
    redactor,
  });
  const resolver = createResolver({ backend, cache, redactor });
  return { clock, redactor, router, resolver };
}

type Setup = ReturnType<typeof setup>;
/** Each path that hands a caller a value (as text), and the text it hands. */
const PATHS: Array<[string, (s: Setup) => Promise<string>, string]> = [
  [
    "router.resolve (memoized hit)",
    async (s) => reveal(s.router.resolve({ namespace: "company.team", key: "TOKEN" })),
    TOKEN,
  ],
  [
    "router.resolve with options",
    async (s) => reveal(s.router.resolve({ namespace: "company", key: "TOKEN" }, { executionId: "e1" })),
    TOKEN,
  ],
  [
    "router.resolve inherited",
    async (s) => reveal(s.router.resolve({ namespace: "company.team.a", key: "URL" })),
    URL_SECRET,
  ],
  [
    "router.resolve of a sub-key",
    async (s) => reveal(s.router.resolve({ namespace: "company", key: "CRED" }, { subkey: "password" })),
    'p@ss\\w0rd"quoted"-9f8e7d6c',
  ],
  [
    "router.resolveMany",
    async (s) => {
      const ref = { namespace: "company", key: "TOKEN" };
      return ((await s.router.resolveMany([ref])).get(ref) as SecretValue).reveal();
    },
    TOKEN,
  ],
  ["router.render", (s) => s.router.render("{{ secret('TOKEN') }}", { namespace: "company" }), TOKEN],
  [
    "router.renderMany of a sub-key",
    async (s) =>
      (
        await s.router.renderMany(["{{ secret('CRED', subkey='user') }}"], { namespace: "company" })
      )[0] as string,
    "svc-deploy",
  ],
  [
    "resolver.resolve (memoized hit)",
    async (s) => reveal(s.resolver.resolve({ namespace: "company", key: "TOKEN" })),
    TOKEN,
  ],
  [
    "resolver.resolve of a version",
    async (s) => reveal(s.resolver.resolve({ namespace: "company", key: "TOKEN" }, { version: "1" })),
    TOKEN,
  ],
];

async function reveal(value: Promise<SecretValue>): Promise<string> {
  return (await value).reveal();
}

describe("trust issue #18 point 3: every returned value is registered", () => {
  for (const [forgetting, forget] of [
    ["maxValues rolled over", ROLL_OVER],
    ["maxAgeMs ran out", AGE_OUT],
  ] as const)
    it.each(PATHS)(`%s: a cached value read again after ${forgetting} is masked`, async (_, read, text) => {
      const s = setup();
      expect(await read(s)).toBe(text);
      expect(s.redactor.redact(`value=${text}`)).toBe("value=******");
      forget(s.redactor, s.clock);
      expect(s.redactor.redact(`value=${text}`)).toBe(`value=${text}`); // the redactor did forget it
      const calls = s.router.stats().backendCalls + s.resolver.stats().backendCalls;
      expect(await read(s)).toBe(text);
      // From the cache, not a new backend read (which would register it anyway).
      expect(s.router.stats().backendCalls + s.resolver.stats().backendCalls).toBe(calls);
      expect(s.redactor.redact(`value=${text}`)).toBe("value=******");
    });

  it("a value in use stays registered: a hit renews it before maxAgeMs runs out", async () => {
    const s = setup();
    const ref = { namespace: "company", key: "TOKEN" };
    for (let i = 0; i < 10; i++) {
      expect((await s.router.resolve(ref)).reveal()).toBe(TOKEN);
      s.clock.advance(1_500); // 15 s in all, each read 1.5 s after the last: never 4 s apart
      expect(s.redactor.redact(TOKEN)).toBe("******");
    }
  });

  it("a stale value served during an outage after the redactor forgot it is masked", async () => {
    const clock = fakeClock();
    const redactor = createRedactor({ maxValues: 3, clock });
    const backend = scriptedBackend({ A: TOKEN });
    const resolver = createResolver({
      backend,
      redactor,
      retry: { attempts: 1 },
      cache: { ttlMs: 1000, jitter: 0, refreshAhead: 0, staleIfErrorMs: 60_000, clock },
    });
    await resolver.resolve({ namespace: "", key: "A" });
    ROLL_OVER(redactor, clock);
    backend.answers.set("A", new BackendUnavailableError("connection reset"));
    clock.advance(1001);
    const stale = await resolver.resolve({ namespace: "", key: "A" });
    expect([stale.reveal(), stale.stale]).toEqual([TOKEN, true]);
    expect(redactor.redact(`t=${TOKEN}`)).toBe("t=******");
  });

  it("a hit costs no registration while the value is known to be registered", async () => {
    const s = setup();
    const ref = { namespace: "company", key: "TOKEN" };
    await s.router.resolve(ref);
    const register = s.redactor.register.bind(s.redactor);
    let registrations = 0;
    s.redactor.register = (value, options) => {
      registrations++;
      register(value, options);
    };
    for (let i = 0; i < 100; i++) await s.router.resolve(ref);
    expect(registrations).toBe(0);
  });
});
