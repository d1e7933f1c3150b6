import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { createRouterFromConfig, loadRouter, parseConfig, parseDuration } from "../src/config/index.js";
import { ConfigurationError } from "../src/index.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const EXAMPLE = `
cache: { maxEntries: 1000, ttl: 5m, negativeTtl: 10s, staleIfError: 10m }
backends:
  env:      { type: env }
  scratch:  { type: memory, initial: { "company.finance/LEDGER": "ledger" } }
  scratch2: { type: memory }
namespaces:
  - match: ""
    backend: env
  - match: company.finance
    backend: scratch
    readOnly: true
    allowedNamespaces: [company.audit]
    fallback: [scratch2]
  - match: company
    tenant: acme
    backend: scratch
`;

describe("keyway.yaml", () => {
  it("parses durations", () => {
    expect([parseDuration("500ms"), parseDuration("10s"), parseDuration("5m"), parseDuration("1h")]).toEqual([
      500, 10_000, 300_000, 3_600_000,
    ]);
    expect(() => parseDuration("5 minutes")).toThrow(/ms, s, m or h/);
  });

  it("builds a working router from the example in the issue", async () => {
    const router = await createRouterFromConfig(parseConfig(EXAMPLE), {
      env: { SECRET_API: b64("from-env") },
    });
    expect((await router.resolve({ namespace: "company.team", key: "API" })).reveal()).toBe("from-env");
    expect((await router.resolve({ namespace: "company.finance.x", key: "LEDGER" })).reveal()).toBe("ledger");
    await expect(router.put({ namespace: "company.finance", key: "X" }, "v")).rejects.toThrow(/read-only/);
  });

  it("substitutes ${VAR} from the environment; $${ writes a literal ${", () => {
    const { config } = parseConfig(
      "backends:\n  e: { type: env, prefix: '${PFX}' }\n  m: { type: memory, initial: { '/K': 'a$${b}' } }\nnamespaces: [{ match: '', backend: e }]\n",
      { env: { PFX: "MY_" } },
    );
    expect(config.backends.e?.prefix).toBe("MY_");
    expect(config.backends.m?.initial).toEqual({ "/K": "a${b}" });
  });

  it("an unset variable is a configuration error naming it and the line", async () => {
    const text =
      "backends:\n  e: { type: env }\n  v: { type: vault, token: '${VAULT_TOKEN}' }\nnamespaces: [{ match: '', backend: e }]";
    // Inside a backend's options, it fails the commands that use that backend (and prepare()).
    const router = await createRouterFromConfig(parseConfig(text, { env: {} }), { env: {} });
    await expect(router.prepare()).rejects.toThrow(
      /keyway.yaml:3: environment variable VAULT_TOKEN is not set/,
    );
    // Anywhere else, loading fails.
    expect(() => parseConfig(`${text}\ntimeout: "\${T}"\n`, { env: {} })).toThrow(
      /keyway.yaml:5: environment variable T is not set/,
    );
  });

  it("errors name the path and the line, and never echo a value", () => {
    const text =
      "backends:\n  e: { type: env }\nnamespaces:\n  - match: ''\n    backend: e\n    readOnly: 'yes-s3cret'\n";
    const error = (() => {
      try {
        parseConfig(text);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("keyway.yaml:6: namespaces[0].readOnly");
    expect(error?.message).not.toContain("yes-s3cret");
  });

  it("a wrong backend option is reported with its path before any connection", async () => {
    const parsed = parseConfig(
      "backends:\n  e:\n    type: env\n    encodign: raw\nnamespaces: [{ match: '', backend: e }]\n",
    );
    await expect((await createRouterFromConfig(parsed)).prepare()).rejects.toThrow(
      /keyway.yaml:4: backends.e.encodign/,
    );
  });

  it("an unknown backend type names the package to install", async () => {
    const parsed = parseConfig("backends:\n  x: { type: nosuch }\nnamespaces: [{ match: '', backend: x }]\n");
    await expect((await createRouterFromConfig(parsed)).prepare()).rejects.toThrow(/@keyway\/backend-nosuch/);
  });

  it("a rule naming an undefined backend points at the rule's line", async () => {
    const parsed = parseConfig(
      "backends:\n  e: { type: env }\nnamespaces:\n  - { match: '', backend: e }\n  - { match: a, backend: nope }\n",
    );
    await expect(createRouterFromConfig(parsed)).rejects.toThrow(
      /keyway.yaml:5: .*backend 'nope' is not defined/,
    );
  });

  it.each([
    [
      "two rules with the same match and tenant",
      "  - { match: a, backend: e }\n",
      "5",
      /namespaces\[1\]\.match: another rule has the same match and tenant/,
    ],
    [
      "a tenant rule on a backend that ignores tenants",
      "  - { match: a, tenant: acme, backend: e }\n",
      "5",
      /namespaces\[1\]\.backend: backend 'e' ignores tenants; set 'shared: true'/,
    ],
    [
      "an allowed namespace outside the grammar",
      "  - { match: b, backend: e, allowedNamespaces: [ok, 'a..b'] }\n",
      "5",
      /namespaces\[1\]\.allowedNamespaces\[1\]: allowedNamespaces: Invalid namespace/,
    ],
  ])(
    "the router's own rule check finds %s, and the message points at the rule's line",
    async (_what, rule, line, message) => {
      const parsed = parseConfig(
        `backends:\n  e: { type: env }\nnamespaces:\n  - { match: a, backend: e }\n${rule}`,
      );
      const error = await createRouterFromConfig(parsed).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toMatch(new RegExp(`^keyway.yaml:${line}: `));
      expect((error as Error).message).toMatch(message);
    },
  );

  it("malformed YAML is a configuration error with a line", () => {
    expect(() => parseConfig("backends:\n  e: { type: env\nnamespaces: []\n")).toThrow(
      /keyway.yaml:\d+: not valid YAML/,
    );
  });

  it("without a config file the env backend serves every namespace", async () => {
    const dir = await tempDir("keyway-config-");
    const router = await loadRouter({ env: { SECRET_X: b64("x") }, path: undefined });
    expect((await router.resolve({ namespace: "any.where", key: "X" })).reveal()).toBe("x");
    await writeFile(
      path.join(dir, "k.yaml"),
      "backends: { m: { type: memory, initial: { 'a/K': 'm' } } }\nnamespaces: [{ match: '', backend: m }]\n",
    );
    const fromEnv = await loadRouter({ env: { KEYWAY_CONFIG: path.join(dir, "k.yaml") } });
    expect((await fromEnv.resolve({ namespace: "a", key: "K" })).reveal()).toBe("m");
    await expect(loadRouter({ path: path.join(dir, "missing.yaml") })).rejects.toThrow(
      /Cannot read config file/,
    );
  });
});
