import { describe, expect, it } from "vitest";
import { b64, cli, tempFiles } from "./harness.js";

const CONFIG = `
backends:
  env: { type: env }
  dest: { type: memory, initial: { "team/EXISTING": "old" } }
namespaces:
  - { match: "", backend: env }
  - { match: team, backend: dest }
`;
const env = { SECRET_A: b64("a-value"), SECRET_B: b64("b-value"), SECRET_EXISTING: b64("new-value") };

describe("keyway copy / import", () => {
  it("copy plans create / skip per key, and --dry-run writes nothing and prints no value", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const r = await cli(["copy", "--from-namespace", "", "--to-namespace", "team", "--dry-run"], {
      env,
      cwd: dir,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("create\tA\ncreate\tB\nskip\tEXISTING\n");
    expect(r.stderr).toContain("would be created 2, would be overwritten 0, skipped 1 existing.");
    expect(r.stdout + r.stderr).not.toMatch(/a-value|b-value|new-value/);
  });

  it("copy writes with a summary; --overwrite replaces existing keys", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const plain = await cli(["copy", "--from-namespace", "", "--to-namespace", "team"], { env, cwd: dir });
    expect(plain.stderr).toContain("created 2, overwritten 0, skipped 1 existing.");
    expect(plain.stderr).toContain("copying 3/3: EXISTING"); // plain progress lines off a TTY
    const over = await cli(["copy", "--from-namespace", "", "--to-namespace", "team", "--overwrite"], {
      env,
      cwd: dir,
    });
    expect(over.stderr).toContain("created 2, overwritten 1, skipped 0 existing.");
  });

  // CLI issue #20 point 4: a dry run said "would be created" and exited 0; the real run then
  // failed once per key (40 lines for a 40-key file).
  describe("into a read-only destination", () => {
    const readOnly = CONFIG.replace("backend: dest }", "backend: dest, readOnly: true }");
    const dotenv = Array.from({ length: 40 }, (_, i) => `KEY_${i}=value-${i}`).join("\n");

    it.each([
      ["copy --dry-run", ["copy", "--from-namespace", "", "--to-namespace", "team", "--dry-run"]],
      ["copy", ["copy", "--from-namespace", "", "--to-namespace", "team"]],
      ["import --dry-run", ["import", ".env", "-n", "team", "--dry-run"]],
      ["import", ["import", ".env", "-n", "team"]],
    ])("%s fails once, before any plan or write, with exit 4", async (_name, argv) => {
      const dir = await tempFiles({ "keyway.yaml": readOnly, ".env": dotenv });
      const r = await cli(argv, { env, cwd: dir });
      expect(r.code).toBe(4);
      expect(r.stdout).toBe("");
      expect(r.stderr.trim().split("\n")).toEqual([
        "keyway: Namespace 'team' is read-only (rule 'team'). Nothing was written.",
      ]);
    });
  });

  it("a write failure about the destination stops the run at once; the summary counts what was written", async () => {
    // A backend without write support (env) is refused before the first write, like a read-only rule.
    const dir = await tempFiles({
      "keyway.yaml": CONFIG,
      ".env": "NEW=1\nOTHER=2\n",
    });
    const r = await cli(["import", ".env", "-n", "elsewhere"], { env, cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("Backend 'env' is read-only");
    expect(r.stderr).not.toContain("failed NEW");
  });

  it("import reads a .env file with the same plan rules; a bad file writes nothing (exit 3)", async () => {
    const dir = await tempFiles({
      "keyway.yaml": CONFIG,
      ".env": "NEW=1\nEXISTING=2\n",
      "bad.env": "OK=1\nnot a line\n",
    });
    const r = await cli(["import", ".env", "-n", "team", "--dry-run"], { cwd: dir });
    expect(r.stdout).toBe("create\tNEW\nskip\tEXISTING\n");
    const bad = await cli(["import", "bad.env", "-n", "team"], { cwd: dir });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("line 2:");
  });
});
