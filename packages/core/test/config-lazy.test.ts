// CLI issue #20 points 3 and 5: a config problem is reported where it is, and only to the commands
// that need that part. A `get` in an AWS namespace must not fail because VAULT_TOKEN is unset for
// the Vault backend, or because @keyway/backend-vault is not installed.
import { describe, expect, it } from "vitest";
import { createRouterFromConfig, parseConfig } from "../src/config/index.js";
import { ConfigurationError } from "../src/index.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const CONFIG = `
backends:
  env: { type: env }
  vault: { type: vault, endpoint: "http://127.0.0.1:1", auth: { method: token, token: "\${VAULT_TOKEN}" } }
  gone: { type: nosuchbackend }
  bad: { type: memory, bogus: 1 }
namespaces:
  - { match: "", backend: env }
  - { match: team.vault, backend: vault }
  - { match: team.gone, backend: gone }
  - { match: team.bad, backend: bad }
`;

async function routerOf(text: string, env: Record<string, string> = {}) {
  return createRouterFromConfig(parseConfig(text, { env }), {
    env: { SECRET_API: b64("root-value"), ...env },
  });
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe("a backend is loaded and checked only when a command uses it", () => {
  it("namespaces served by healthy backends work while others are broken", async () => {
    const router = await routerOf(CONFIG);
    expect((await router.resolve({ key: "API", namespace: "team" })).reveal()).toBe("root-value");
    expect((await router.list("team")).map((k) => k.key)).toEqual(["API"]);
  });

  it.each([
    ["team.vault", /keyway\.yaml:4: environment variable VAULT_TOKEN is not set/],
    [
      "team.gone",
      /keyway\.yaml:5: backend type 'nosuchbackend' needs the package @keyway\/backend-nosuchbackend/,
    ],
    ["team.bad", /keyway\.yaml:6: backends\.bad\.bogus/],
  ])("a read, list or write in %s gives that backend's configuration error", async (namespace, message) => {
    const router = await routerOf(CONFIG);
    for (const attempt of [
      router.resolve({ key: "API_X", namespace }),
      router.list(namespace),
      router.put({ key: "K", namespace }, "v"),
    ]) {
      const error = await failure(attempt);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error?.message).toMatch(message);
    }
  });

  it("prepare() still checks every backend, so a start-up check finds them all", async () => {
    const error = await failure((await routerOf(CONFIG)).prepare());
    expect(error).toBeInstanceOf(ConfigurationError);
  });

  it("strict: true fails the load on the first backend that cannot be built", async () => {
    const error = await failure(createRouterFromConfig(parseConfig(CONFIG, { env: {} }), { strict: true }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toMatch(/VAULT_TOKEN is not set/);
  });

  it("inheritance does not hide a broken backend as 'not found'", async () => {
    const router = await routerOf(CONFIG);
    // team.vault.etl climbs team.vault (broken) → must fail there, not fall through to the root.
    const error = await failure(router.resolve({ key: "API", namespace: "team.vault.etl" }));
    expect(error).toBeInstanceOf(ConfigurationError);
  });
});

describe("configuration errors say where and what to fix", () => {
  it("a typo in a backend type suggests the nearest type", async () => {
    const router = await routerOf(
      `backends:\n  v: { type: valt }\nnamespaces: [{ match: "", backend: v }]\n`,
    );
    const error = await failure(router.resolve({ key: "K", namespace: "" }));
    expect(error?.message).toContain("did you mean 'vault'?");
  });

  it("an unclosed flow mapping is reported on the line that opened it", () => {
    const text = `backends:\n  e: { type: env }\nnamespaces:\n  - { match: "", backend: e\n  - { match: a, backend: e }\n\n`;
    expect(() => parseConfig(text)).toThrow(/keyway\.yaml:4: .*'\{' opened here is not closed/);
    const list = `backends:\n  e: { type: env }\nnamespaces: [\n  { match: "", backend: e },\n\nother: 1\n`;
    expect(() => parseConfig(list)).toThrow(/keyway\.yaml:3: .*'\[' opened here is not closed/);
  });
});
