// CLI issue #20 point 6: `--json` for machines on list, get (metadata), copy and import (check
// has had it). Never a value in any of them.
import { describe, expect, it } from "vitest";
import { b64, cli, tempFiles } from "./harness.js";

const CONFIG = `
backends:
  env: { type: env }
  team: { type: memory, initial: { "company.team/DB": "team-db-pass", "company.team/EXISTING": "old-value" } }
namespaces:
  - { match: "", backend: env }
  - { match: company.team, backend: team }
`;
const env = { SECRET_ROOT_KEY: b64("root-value"), SECRET_EXISTING: b64("new-value") };
const VALUES = /root-value|team-db-pass|old-value|new-value/;

describe("--json", () => {
  it("list --json: one array of { key, namespace, backend }, sorted, inherited keys with their namespace", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const r = await cli(["list", "-n", "company.team", "--inherited", "--json"], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { key: "DB", namespace: "company.team", backend: "team" },
      { key: "EXISTING", namespace: "company.team", backend: "team" },
      { key: "ROOT_KEY", namespace: "", backend: "env" },
    ]);
    expect(r.stdout).not.toMatch(VALUES);
  });

  it("get --json: where the value was found and its metadata, never the value", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const r = await cli(["get", "ROOT_KEY", "-n", "company.team", "--json"], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      key: "ROOT_KEY",
      namespace: "company.team",
      foundIn: "",
      backend: "env",
      stale: false,
      metadata: {},
    });
    const db = JSON.parse(
      (await cli(["get", "DB", "-n", "company.team", "--json"], { env, cwd: dir })).stdout,
    );
    expect(db).toMatchObject({ foundIn: "company.team", backend: "team", metadata: { version: "1" } });
    const missing = await cli(["get", "NOPE", "-n", "company.team", "--json"], { env, cwd: dir });
    expect([missing.code, missing.stdout]).toEqual([2, ""]);
  });

  it("copy --json and import --json: the plan and what happened to each key, as one document", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG, ".env": "NEW=new-secret-value\nEXISTING=x\n" });
    const dry = await cli(
      ["copy", "--from-namespace", "", "--to-namespace", "company.team", "--dry-run", "--json"],
      {
        env,
        cwd: dir,
      },
    );
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toEqual({
      dryRun: true,
      namespace: "company.team",
      keys: [
        { key: "EXISTING", action: "skip", status: "planned" },
        { key: "ROOT_KEY", action: "create", status: "planned" },
      ],
      created: 1,
      overwritten: 0,
      skipped: 1,
      failed: 0,
    });
    expect(dry.stderr).toBe("");
    const imported = await cli(["import", ".env", "-n", "company.team", "--json"], { env, cwd: dir });
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      dryRun: false,
      keys: [
        { key: "NEW", action: "create", status: "done" },
        { key: "EXISTING", action: "skip", status: "done" },
      ],
      created: 1,
      skipped: 1,
    });
    expect(dry.stdout + imported.stdout + imported.stderr).not.toMatch(
      /new-secret-value|root-value|old-value/,
    );
  });
});
