import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { b64, cli, tempFiles } from "./harness.js";

const CONFIG = `
backends:
  env: { type: env }
  team: { type: memory, initial: { "company.team/DB": '{"user":"admin","password":"team-db-pass"}' } }
  finance: { type: memory, initial: { "company.finance/LEDGER": "ledger-value" } }
namespaces:
  - { match: "", backend: env }
  - { match: company.team, backend: team }
  - { match: company.finance, backend: finance, readOnly: true }
`;

describe("keyway get / list / expression", () => {
  const env = { SECRET_API_TOKEN: b64("t0ken-value"), SECRET_B: b64("b"), SECRET_BAD: "pass word" };

  it("get prints exactly the value, no trailing newline", async () => {
    const r = await cli(["get", "API_TOKEN"], { env });
    expect([r.code, r.stdout, r.stderr]).toEqual([0, "t0ken-value", ""]);
  });

  it("get of a missing key exits 2 with Kestra's message", async () => {
    const r = await cli(["get", "NOPE", "--namespace", "a.b"], { env });
    expect(r.code).toBe(2);
    // Kestra's message word for word, then where it looked (CLI issue #20 point 3).
    expect(r.stderr).toBe(
      "keyway: Cannot find secret for key 'NOPE'. Searched 'a.b', 'a' and the root in backend 'env'.\n",
    );
  });

  it("not found names each namespace searched and the backend of each", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const r = await cli(["get", "NOPE", "-n", "company.team.etl"], { cwd: dir });
    expect(r.stderr).toBe(
      "keyway: Cannot find secret for key 'NOPE'. Searched 'company.team.etl' and 'company.team' in backend 'team', then 'company' and the root in backend 'env'.\n",
    );
  });

  it("an invalid reference exits 3 before any backend call", async () => {
    expect((await cli(["get", "../etc/passwd"], { env })).code).toBe(3);
    expect((await cli(["get", "K", "--namespace", "a/b"], { env })).code).toBe(3);
  });

  it("an invalid env value exits 3 naming the variable, never the value", async () => {
    const r = await cli(["get", "BAD"], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("SECRET_BAD");
    expect(r.stderr).not.toContain("pass word");
  });

  it("list prints key names sorted, never values", async () => {
    const r = await cli(["list"], { env: { SECRET_ZED: b64("z-value"), SECRET_ALPHA: b64("a-value") } });
    expect(r.stdout).toBe("ALPHA\nZED\n");
  });

  it("list --inherited shows where each key comes from", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const r = await cli(["list", "--namespace", "company.team", "--inherited"], {
      env: { SECRET_ROOTKEY: b64("r") },
      cwd: dir,
    });
    expect(r.stdout).toBe("DB\tcompany.team\nROOTKEY\t<root>\n");
  });

  it("expression prints the template expression", async () => {
    expect((await cli(["expression", "API_TOKEN"])).stdout).toBe("{{ secret('API_TOKEN') }}\n");
    expect((await cli(["expression", "bad key"])).code).toBe(3);
  });

  it("usage errors exit 1", async () => {
    expect((await cli(["get"])).code).toBe(1);
    expect((await cli(["nosuchcommand"])).code).toBe(1);
  });
});

describe("keyway render / check", () => {
  it("renders with inheritance across two backends, from a file or stdin", async () => {
    const dir = await tempFiles({
      "keyway.yaml": CONFIG,
      "flow.yaml": "db: \"{{ secret('DB', subkey='user') }}\"\ntoken: \"{{ secret('API') }}\"\n",
    });
    const env = { SECRET_API: b64("api-value") };
    const fromFile = await cli(["render", "flow.yaml", "--namespace", "company.team.etl"], { env, cwd: dir });
    expect(fromFile.stdout).toBe('db: "admin"\ntoken: "api-value"\n');
    const fromStdin = await cli(["render", "-", "-n", "company.team"], {
      env,
      cwd: dir,
      stdin: "{{ secret('API') }}",
    });
    expect(fromStdin.stdout).toBe("api-value");
  });

  it("a malformed template exits 3 with line and column", async () => {
    const r = await cli(["render", "-", "-n", "x"], { stdin: "ok\n{{ secret('A' }}" });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/line 2, column \d+/);
  });

  it("check prints key, namespace, backend and status per reference, never the value; exit code of the worst", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const template =
      "{{ secret('DB') }} {{ secret('NOPE') }} {{ secret('LEDGER', namespace='company.finance') }}";
    const r = await cli(["check", "-", "-n", "company.team"], { cwd: dir, stdin: template });
    // Where each reference is, and why for a failure other than missing (CLI issue #20 point 6).
    expect(r.stdout).toBe(
      "<stdin>:1:4\tDB\tcompany.team\tteam\tfound\n" +
        "<stdin>:1:23\tNOPE\tcompany.team\tteam\tmissing\n" +
        "<stdin>:1:44\tLEDGER\tcompany.finance\tfinance\tdenied\tNamespace 'company.team' may not read secrets of namespace 'company.finance' (not an ancestor, and not in its allowedNamespaces).\n",
    );
    expect(r.stdout).not.toContain("team-db-pass");
    expect(r.code).toBe(4);
    const json = await cli(["check", "-", "-n", "company.team", "--json"], {
      cwd: dir,
      stdin: "{{ secret('DB') }}",
    });
    expect(JSON.parse(json.stdout).references[0]).toMatchObject({
      key: "DB",
      status: "found",
      backend: "team",
    });
    expect(json.code).toBe(0);
  });
});

describe("keyway put / delete", () => {
  it("reads the value from stdin byte for byte; --trim-newline drops one newline", async () => {
    const dir = await tempFiles({
      "keyway.yaml": "backends: { m: { type: memory } }\nnamespaces: [{ match: '', backend: m }]\n",
    });
    // The memory backend lives in one process: put and get in one run via render of the same router is not possible,
    // so this checks the write path's exit code and the read-only and argv rules.
    expect((await cli(["put", "K", "-n", "a"], { cwd: dir, stdin: "value\n" })).code).toBe(0);
    expect(
      (
        await cli(["put", "K", "-n", "a", "--trim-newline", "--tag", "team=x"], {
          cwd: dir,
          stdin: "value\n",
        })
      ).code,
    ).toBe(0);
    expect((await cli(["put", "K", "-n", "a", "--tag", "novalue"], { cwd: dir, stdin: "v" })).code).toBe(1);
  });

  // CLI issue #20 point 4: an empty stdin stored an empty secret; a trailing newline went unnoticed.
  it("refuses an empty value unless --allow-empty", async () => {
    const dir = await tempFiles({
      "keyway.yaml": "backends: { m: { type: memory } }\nnamespaces: [{ match: '', backend: m }]\n",
    });
    const empty = await cli(["put", "K", "-n", "a"], { cwd: dir, stdin: "" });
    expect(empty.code).toBe(3);
    expect(empty.stderr).toContain("stdin was empty");
    expect(empty.stderr).toContain("--allow-empty");
    expect((await cli(["put", "K", "-n", "a", "--allow-empty"], { cwd: dir, stdin: "" })).code).toBe(0);
    // Only a newline, stripped, is empty too.
    const newline = await cli(["put", "K", "-n", "a", "--strip-newline"], { cwd: dir, stdin: "\n" });
    expect(newline.code).toBe(3);
  });

  it("says on stderr, never with the value, when the value ends with a newline; --strip-newline drops it", async () => {
    const dir = await tempFiles({
      "keyway.yaml": "backends: { m: { type: memory } }\nnamespaces: [{ match: '', backend: m }]\n",
    });
    const kept = await cli(["put", "K", "-n", "a"], { cwd: dir, stdin: "hunter2-password\r\n" });
    expect(kept.code).toBe(0);
    expect(kept.stderr).toMatch(/ends with a line break \(kept\).*--strip-newline/);
    expect(kept.stderr).not.toContain("hunter2");
    const stripped = await cli(["put", "K", "-n", "a", "--strip-newline"], {
      cwd: dir,
      stdin: "hunter2-password\n",
    });
    expect(stripped.code).toBe(0);
    expect(stripped.stderr).toBe("");
  });

  it("list in a namespace no rule serves exits 3, as get and put do", async () => {
    const dir = await tempFiles({
      "keyway.yaml": "backends: { m: { type: memory } }\nnamespaces: [{ match: company, backend: m }]\n",
    });
    for (const argv of [
      ["list", "-n", "other.team"],
      ["list", "-n", "other.team", "--inherited"],
    ]) {
      const r = await cli(argv, { cwd: dir });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain("No rule serves namespace 'other.team'");
    }
    expect((await cli(["get", "K", "-n", "other.team"], { cwd: dir })).code).toBe(3);
    expect((await cli(["list", "-n", "company.team"], { cwd: dir })).code).toBe(0);
  });

  it("writing to a read-only rule or backend exits 4", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    expect((await cli(["put", "X", "-n", "company.finance"], { cwd: dir, stdin: "v" })).code).toBe(4);
    expect((await cli(["put", "X", "-n", "other"], { cwd: dir, stdin: "v" })).code).toBe(4);
    expect((await cli(["delete", "LEDGER", "-n", "company.finance"], { cwd: dir })).code).toBe(4);
  });

  it("deleting a missing key exits 2", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    expect((await cli(["delete", "NOPE", "-n", "company.team"], { cwd: dir })).code).toBe(2);
  });
});

describe("keyway redact / run", () => {
  it("redact masks every SECRET_ variable (raw text of invalid ones too) and --key secrets", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const env = { SECRET_API: b64("api-secret-value"), SECRET_PLAIN: "plaintext-by-mistake" };
    const input = "a api-secret-value b plaintext-by-mistake c ledger-value d team-db-pass\n";
    const r = await cli(["redact", "-n", "company.team", "--key", "DB"], { env, cwd: dir, stdin: input });
    expect(r.stdout).toBe("a ****** b ****** c ledger-value d ******\n");
  });

  // Trust issue #18 point 1: the credentials Keyway holds are masked by redact, as by run.
  it("redact also masks the credentials Keyway holds (VAULT_TOKEN, AWS keys)", async () => {
    const env = {
      VAULT_TOKEN: "hvs.CAESIJlongvaulttokenvalue123",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz",
    };
    const input = `token=${env.VAULT_TOKEN} key=${env.AWS_SECRET_ACCESS_KEY}\n`;
    const r = await cli(["redact"], { env, stdin: input });
    expect(r.stdout).toBe("token=****** key=******\n");
  });

  it("run puts secrets in the child's environment and redacts its output; exit code passes through", async () => {
    const env = { SECRET_API: b64("api-secret-value"), PATH: process.env.PATH };
    const r = await cli(
      [
        "run",
        "-n",
        "x",
        "--env",
        "TOKEN=API",
        "--",
        process.execPath,
        "-e",
        "console.log('got ' + process.env.TOKEN); console.error(process.env.TOKEN); process.exit(7)",
      ],
      { env },
    );
    expect(r.stdout).toBe("got ******\n");
    expect(r.stderr).toBe("******\n");
    expect(r.code).toBe(7);
  });

  // CLI issue #20 point 6: a sub-key in `--env NAME=KEY.subkey`, as secret(key, subkey=…) in a template.
  it("run takes a sub-key of a JSON secret with NAME=KEY.subkey; every failure is reported at once", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    // The leaves are secrets too (their output is masked), so the child prints facts about them.
    const child =
      "process.stdout.write((process.env.DB_USER === 'admin') + ' ' + process.env.DB_PASSWORD.length)";
    const r = await cli(
      [
        "run",
        "-n",
        "company.team",
        "--env",
        "DB_USER=DB.user",
        "--env",
        "DB_PASSWORD=DB.password",
        "--",
        process.execPath,
        "-e",
        child,
      ],
      { env: { PATH: process.env.PATH }, cwd: dir },
    );
    expect([r.code, r.stdout]).toEqual([0, "true 12"]);
    const missing = await cli(
      [
        "run",
        "-n",
        "company.team",
        "--env",
        "A=DB.nope",
        "--env",
        "B=DB.other",
        "--",
        process.execPath,
        "-e",
        "0",
      ],
      { env: { PATH: process.env.PATH }, cwd: dir },
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Cannot find secret sub-key 'nope' in secret 'DB'.");
    expect(missing.stderr).toContain("Cannot find secret sub-key 'other' in secret 'DB'.");
    expect(missing.stderr).not.toContain("team-db-pass");
    const empty = await cli(
      ["run", "-n", "company.team", "--env", "A=DB.", "--", process.execPath, "-e", "0"],
      {
        env: { PATH: process.env.PATH },
        cwd: dir,
      },
    );
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain("NAME=KEY.subkey");
  });

  it("run reports a signal as 128+n", async () => {
    const r = await cli(
      ["run", "-n", "x", "--", process.execPath, "-e", "process.kill(process.pid, 'SIGTERM')"],
      {
        env: { PATH: process.env.PATH },
      },
    );
    expect(r.code).toBe(143);
  });

  it("run fails with Keyway's own exit code before starting when a secret is missing", async () => {
    const r = await cli(["run", "-n", "x", "--env", "T=NOPE", "--", process.execPath, "-e", ""], {});
    expect(r.code).toBe(2);
  });
});

describe("the built bin", () => {
  const bin = path.resolve(__dirname, "../bin/keyway.cjs");
  it("is executable and imports the built code", () => {
    expect(existsSync(bin)).toBe(true);
    expect(readFileSync(bin, "utf8")).toMatch(/^#!\/usr\/bin\/env node/);
  });
});
