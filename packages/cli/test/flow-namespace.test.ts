// CLI issue #20 points 3 and 6: render and check take the namespace from the flow's own
// `namespace:` when -n is absent and warn when -n differs; a document error names the file;
// check says where each reference is and why one failed. And mode final refuses a value the
// engine would evaluate unless --allow-template-values (found by trust issue #18 point 11).
import { describe, expect, it } from "vitest";
import { cli, tempFiles } from "./harness.js";

const CONFIG = `
backends:
  team: { type: memory, initial: { "company.team/DB": "team-db-pass", "company.team/TPL": "{{ secret('DB') }}" } }
namespaces:
  - { match: "", backend: team }
`;
const FLOW = `id: etl
namespace: company.team
tasks:
  - id: t
    password: "{{ secret('DB') }}"
`;

describe("render and check read the flow's namespace", () => {
  it("without -n, the flow's own namespace: is used", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG, "flow.yaml": FLOW });
    const r = await cli(["render", "flow.yaml"], { cwd: dir });
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toContain('password: "team-db-pass"');
    const c = await cli(["check", "flow.yaml"], { cwd: dir });
    expect(c.stdout).toBe("flow.yaml:5:19\tDB\tcompany.team\tteam\tfound\n");
  });

  it("a -n that differs from the flow's namespace is used, with a warning", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG, "flow.yaml": FLOW });
    const r = await cli(["check", "flow.yaml", "-n", "company.other"], { cwd: dir });
    expect(r.stderr).toBe(
      "keyway: warning: flow.yaml is a flow of namespace 'company.team', but -n says 'company.other'; resolving as 'company.other'.\n",
    );
    expect(r.stdout).toContain("\tmissing");
  });

  it("text, or a flow without namespace:, needs -n", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG, "task.yaml": "password: \"{{ secret('DB') }}\"\n" });
    const r = await cli(["render", "task.yaml"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "task.yaml has no top-level 'namespace:'; give the namespace to render for with -n NS.",
    );
    const stdin = await cli(["render", "-"], { cwd: dir, stdin: "{{ secret('DB') }}" });
    expect(stdin.stderr).toContain("<stdin> has no top-level 'namespace:'");
  });

  it("a document error names the file as well as the line", async () => {
    const dir = await tempFiles({
      "keyway.yaml": CONFIG,
      "bad.yaml": "namespace: company.team\npassword: {{ secret('DB') }}\n",
    });
    for (const command of ["render", "check"]) {
      const r = await cli([command, "bad.yaml"], { cwd: dir });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(
        /^keyway: bad\.yaml: Line 2, column 11 \(password\): an unquoted \{\{ … \}\} is a YAML mapping/,
      );
    }
  });

  it("mode final refuses a value holding template syntax unless --allow-template-values", async () => {
    const dir = await tempFiles({
      "keyway.yaml": CONFIG,
      "flow.yaml": "namespace: company.team\nvalue: \"{{ secret('TPL') }}\"\n",
    });
    const refused = await cli(["render", "flow.yaml"], { cwd: dir });
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain("flow.yaml: The value of secret 'TPL' holds template syntax");
    const allowed = await cli(["render", "flow.yaml", "--allow-template-values"], { cwd: dir });
    expect(allowed.code).toBe(0);
    const pebble = await cli(["render", "flow.yaml", "--mode", "pebble"], { cwd: dir });
    expect(pebble.code).toBe(0);
  });
});
