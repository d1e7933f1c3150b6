// The real `keyway` (the built bin, a child process) with the store: `store init` on both
// engines, put and get through the printed keyway.yaml lines, `store rotate-key`, and
// `keyway copy` from Vault (OpenBao) into the store and back.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { createDatabase, embeddedFolders, recordValue, server } from "./helpers.js";

const bin = fileURLToPath(new URL("../../cli/bin/keyway.cjs", import.meta.url));
const openbao = serverFromEnv("openbao");

function keyway(cwd: string, argv: string[], stdin?: string, env: Record<string, string> = {}) {
  if (stdin !== undefined) recordValue(stdin);
  embeddedFolders.add(path.join(cwd, ".keyway"));
  const result = spawnSync(process.execPath, [bin, ...argv], {
    cwd,
    input: stdin,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The printed lines, as a keyway.yaml. */
const configFrom = (stdout: string) => stdout.replace(/^#.*\n/, "");

describe.skipIf(!server)("keyway store (the real CLI)", () => {
  it("init --path creates the store and a 0600 key file, prints working config lines, and refuses to run twice", async () => {
    const cwd = await tempDir("keyway-cli-store-");
    const created = keyway(cwd, ["store", "init"]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('path: ".keyway/store"');
    expect(statSync(path.join(cwd, ".keyway/store.key")).mode & 0o777).toBe(0o600);
    writeFileSync(path.join(cwd, "keyway.yaml"), configFrom(created.stdout));
    const value = 'pa$$ "wörd"\nline two';
    expect(keyway(cwd, ["put", "DB_PASSWORD", "-n", "company.team"], value).code).toBe(0);
    const got = keyway(cwd, ["get", "DB_PASSWORD", "-n", "company.team.etl"]);
    expect([got.code, got.stdout]).toEqual([0, value]);
    const keyBefore = readFileSync(path.join(cwd, ".keyway/store.key"), "utf8");
    const again = keyway(cwd, ["store", "init"]);
    expect(again.code).toBe(3);
    expect(readFileSync(path.join(cwd, ".keyway/store.key"), "utf8")).toBe(keyBefore);
    const otherKey = keyway(cwd, ["store", "init", "--key-file", "other.key"]);
    expect(otherKey.code).toBe(3);
    expect(otherKey.stderr).toMatch(/already holds a Keyway store/);
    expect(() => statSync(path.join(cwd, "other.key"))).toThrow();
    expect(`${again.stderr}${otherKey.stderr}`).not.toContain(keyBefore.trim());
  });

  it("init --url creates a store in a PostgreSQL database; a missing key names the variable", async () => {
    const cwd = await tempDir("keyway-cli-store-");
    const url = await createDatabase("cli");
    const created = keyway(cwd, ["store", "init", "--url", url, "--name", "fleet"]);
    expect(created.code, created.stderr).toBe(0);
    writeFileSync(path.join(cwd, "keyway.yaml"), configFrom(created.stdout));
    expect(keyway(cwd, ["put", "TOKEN", "-n", "prod"], "fleet-token").code).toBe(0);
    expect(keyway(cwd, ["get", "TOKEN", "-n", "prod"]).stdout).toBe("fleet-token");
    writeFileSync(
      path.join(cwd, "keyway.yaml"),
      `backends:\n  fleet: { type: store, url: "${url}" }\nnamespaces:\n  - { match: "", backend: fleet }\n`,
    );
    const missing = keyway(cwd, ["get", "TOKEN", "-n", "prod"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("KEYWAY_STORE_KEY");
  });

  it("rotate-key re-wraps every data key under the new key; values read the same with it", async () => {
    const cwd = await tempDir("keyway-cli-store-");
    const created = keyway(cwd, ["store", "init"]);
    writeFileSync(path.join(cwd, "keyway.yaml"), configFrom(created.stdout));
    for (const [key, value] of [
      ["A", "alpha"],
      ["B", "beta"],
      ["A", "alpha-2"],
    ])
      expect(keyway(cwd, ["put", key as string, "-n", "ns"], value).code).toBe(0);
    const rotated = keyway(cwd, ["store", "rotate-key", "--new-key-file", "new.key"]);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stderr).toMatch(/3 data keys re-wrapped in this run/);
    expect(statSync(path.join(cwd, "new.key")).mode & 0o777).toBe(0o600);
    // The old key no longer opens the store; the new one does.
    expect(keyway(cwd, ["get", "A", "-n", "ns"]).code).toBe(3);
    writeFileSync(
      path.join(cwd, "keyway.yaml"),
      configFrom(created.stdout).replace(".keyway/store.key", "new.key"),
    );
    expect(keyway(cwd, ["get", "A", "-n", "ns"]).stdout).toBe("alpha-2");
    expect(keyway(cwd, ["get", "B", "-n", "ns"]).stdout).toBe("beta");
  });

  it.skipIf(!openbao)("keyway copy moves secrets from Vault into the store and back", async () => {
    const cwd = await tempDir("keyway-cli-store-");
    const created = keyway(cwd, ["store", "init"]);
    const prefix = `keyway-test/store-copy-${Date.now()}`;
    writeFileSync(
      path.join(cwd, "keyway.yaml"),
      [
        "backends:",
        configFrom(created.stdout).split("\n")[1],
        `  vault: { type: vault, endpoint: "${openbao?.endpoint}", auth: { method: token, token: root }, prefix: "${prefix}" }`,
        "namespaces:",
        '  - { match: "", backend: store }',
        "  - { match: company.vault, backend: vault }",
        "  - { match: company.back, backend: vault }",
        "",
      ].join("\n"),
    );
    const values = { API_TOKEN: "tök€n with 'quotes'", JSON_CRED: '{"user":"u","password":"p\\"w"}' };
    for (const [key, value] of Object.entries(values))
      expect(keyway(cwd, ["put", key, "-n", "company.vault"], value).code).toBe(0);
    const into = keyway(cwd, [
      "copy",
      "--from-namespace",
      "company.vault",
      "--to-namespace",
      "company.store",
    ]);
    expect(into.code, into.stderr).toBe(0);
    const back = keyway(cwd, ["copy", "--from-namespace", "company.store", "--to-namespace", "company.back"]);
    expect(back.code, back.stderr).toBe(0);
    for (const [key, value] of Object.entries(values)) {
      expect(keyway(cwd, ["get", key, "-n", "company.store"]).stdout).toBe(value);
      expect(keyway(cwd, ["get", key, "-n", "company.back"]).stdout).toBe(value);
    }
    expect(`${into.stdout}${into.stderr}${back.stdout}${back.stderr}`).not.toContain("tök€n");
  });
});
