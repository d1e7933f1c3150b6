// `keyway render` / `keyway check` on real files (issue #13): YAML and JSON are rendered per
// property, so values with quotes, PEM keys, JSON credentials and backslashes stay exact; mode
// final says where it leaves a secret() call in place, and --strict fails on it.
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { cli, tempFiles } from "./harness.js";

const PEM = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHk3yBq\n-----END PRIVATE KEY-----\n";
const CREDENTIAL = JSON.stringify(
  { type: "service_account", private_key: PEM, client_email: "a@b.iam" },
  null,
  2,
);
const QUOTED = 'say "cheese" it\'s';
const BACKSLASH = "DOMAIN\\svc\\n";

/** A keyway.yaml with a memory backend holding the four kinds of value. */
function config(): string {
  const initial = { PEM, CREDENTIAL, QUOTED, BACKSLASH };
  const entries = Object.entries(initial).map(
    ([key, value]) => `      "company/${key}": ${JSON.stringify(value)}`,
  );
  return `backends:\n  m:\n    type: memory\n    initial:\n${entries.join("\n")}\nnamespaces:\n  - { match: "", backend: m }\n`;
}

const FLOW = `id: f   # a flow
namespace: company.team
tasks:
  - id: t
    key: "{{ secret('PEM') }}"
    serviceAccount: '{{ secret("CREDENTIAL") }}'
    headers: { X-A: "{{ secret('QUOTED') }}" }
    user: "{{ secret('BACKSLASH') }}"
    script: |
      echo {{ secret('QUOTED') }}
`;

describe("keyway render on YAML and JSON files", () => {
  it("a .yaml file is parsed and rendered per property: every value exact, comments kept", async () => {
    const dir = await tempFiles({ "keyway.yaml": config(), "flow.yaml": FLOW });
    const r = await cli(["render", "flow.yaml", "-n", "company.team"], { cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(parse(r.stdout)).toEqual({
      id: "f",
      namespace: "company.team",
      tasks: [
        {
          id: "t",
          key: PEM,
          serviceAccount: CREDENTIAL,
          headers: { "X-A": QUOTED },
          user: BACKSLASH,
          script: `echo ${QUOTED}\n`,
        },
      ],
    });
    expect(r.stdout.startsWith("id: f   # a flow\n")).toBe(true);
  });

  it("text substitution of the same file (--format text) does not give valid YAML: why yaml is the default", async () => {
    const dir = await tempFiles({ "keyway.yaml": config(), "flow.yaml": FLOW });
    const r = await cli(["render", "flow.yaml", "-n", "company.team", "--format", "text"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(() => parse(r.stdout)).toThrow();
  });

  it("a .json file stays JSON with exact values; stdin renders as YAML with --format yaml", async () => {
    const json = '{\n  "key": "{{ secret(\'PEM\') }}",\n  "n": 1.50\n}\n';
    const dir = await tempFiles({ "keyway.yaml": config(), "app.json": json });
    const r = await cli(["render", "app.json", "-n", "company"], { cwd: dir });
    expect(JSON.parse(r.stdout)).toEqual({ key: PEM, n: 1.5 });
    expect(r.stdout).toContain('"n": 1.50');
    const stdin = await cli(["render", "-", "-n", "company", "--format", "yaml"], {
      cwd: dir,
      stdin: "a: \"{{ secret('CREDENTIAL') }}\"\n",
    });
    expect(parse(stdin.stdout)).toEqual({ a: CREDENTIAL });
  });

  it("bad input exits 3 with what to fix: an unquoted {{ }}, YAML that does not parse, an unknown --format", async () => {
    const dir = await tempFiles({
      "keyway.yaml": config(),
      "unquoted.yaml": "password: {{ secret('PEM') }}\n",
      "broken.yaml": "a: [1, 2\n",
    });
    const unquoted = await cli(["render", "unquoted.yaml", "-n", "company"], { cwd: dir });
    expect(unquoted.code).toBe(3);
    expect(unquoted.stderr).toMatch(
      /Line 1, column 11 \(password\): an unquoted \{\{ … \}\} is a YAML mapping/,
    );
    expect(unquoted.stdout).toBe("");
    const broken = await cli(["render", "broken.yaml", "-n", "company"], { cwd: dir });
    expect(broken.code).toBe(3);
    expect(broken.stderr).toMatch(/not valid YAML at line \d+, column \d+/);
    const format = await cli(["render", "unquoted.yaml", "-n", "company", "--format", "toml"], { cwd: dir });
    expect(format.code).toBe(3);
    expect(format.stderr).toBe("keyway: Unknown --format 'toml': use yaml, json or text.\n");
  });
});

describe("keyway render --mode final: calls left in place", () => {
  const flow = "a: \"{{ secret('QUOTED') }}\"\nb:\n  c: \"{{ secret('PEM') | upper }}\"\n";

  it("each is named on stderr with file, line, column, property and key, never a value; exit 0", async () => {
    const dir = await tempFiles({ "keyway.yaml": config(), "flow.yaml": flow });
    const r = await cli(["render", "flow.yaml", "-n", "company"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "keyway: warning: flow.yaml:3:10 (b.c): secret('PEM') is inside a larger expression; --mode final leaves it in place for the executor's engine.\n",
    );
    expect(parse(r.stdout)).toEqual({ a: QUOTED, b: { c: "{{ secret('PEM') | upper }}" } });
    expect(r.stderr).not.toContain("PRIVATE");
  });

  it("--strict fails with exit 3 and writes nothing", async () => {
    const dir = await tempFiles({ "keyway.yaml": config(), "flow.yaml": flow });
    const r = await cli(["render", "flow.yaml", "-n", "company", "--strict"], { cwd: dir });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("1 secret() call(s) left in place (--strict)");
    const clean = await cli(["render", "-", "-n", "company", "--strict"], {
      cwd: dir,
      stdin: "{{ secret('QUOTED') }}",
    });
    expect([clean.code, clean.stdout]).toEqual([0, QUOTED]);
  });

  it("mode pebble turns every call into a literal, so nothing is left and --strict passes", async () => {
    const dir = await tempFiles({ "keyway.yaml": config(), "flow.yaml": flow });
    const r = await cli(["render", "flow.yaml", "-n", "company", "--mode", "pebble", "--strict"], {
      cwd: dir,
    });
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(parse(r.stdout).b.c).toBe(
      "{{ '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHk3yBq\n-----END PRIVATE KEY-----\n' | upper }}",
    );
  });
});

describe("keyway check on YAML", () => {
  it("reads the parsed strings (escaped quotes too) and reports each reference's line and property", async () => {
    const dir = await tempFiles({
      "keyway.yaml": config(),
      "flow.yaml": 'a: "{{ secret(\\"PEM\\") }}"\nb: [ "{{ secret(\'NOPE\') }}" ]\n',
    });
    const r = await cli(["check", "flow.yaml", "-n", "company", "--json"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(
      JSON.parse(r.stdout).references.map((x: Record<string, unknown>) => [x.key, x.line, x.path, x.status]),
    ).toEqual([
      ["PEM", 1, "a", "found"],
      ["NOPE", 2, "b.0", "missing"],
    ]);
    expect(r.stdout).not.toContain("PRIVATE");
  });
});
