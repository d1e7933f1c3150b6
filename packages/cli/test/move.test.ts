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

  it("copy into a read-only rule fails with exit 4 and says which keys failed", async () => {
    const dir = await tempFiles({
      "keyway.yaml": CONFIG.replace("backend: dest }", "backend: dest, readOnly: true }"),
    });
    const r = await cli(["copy", "--from-namespace", "", "--to-namespace", "team"], { env, cwd: dir });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/failed A: .*read-only/);
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
