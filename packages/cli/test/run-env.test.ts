// Trust issue #18 point 1: `keyway run` handed its child the parent's whole environment, every
// `SECRET_*` variable (other namespaces' secrets) and the credentials Keyway itself uses, and the
// child printed them unmasked. Point 5: a secret holding a NUL byte failed as "unexpected
// TypeError", and under KEYWAY_DEBUG=1 Node's spawn error printed the value.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { b64, cli, tempFiles } from "./harness.js";

// Realistic values: what each would look like in a real shell.
const VAULT_TOKEN = "hvs.CAESIJ1vFm8bQx3Lk2Zp0qWnE7tYr4uIoP9aSdFgHjKl";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ROLE_SECRET = "6f2b8c1e-approle-secret-id-9d4a";
const TEAM_B_SECRET = "team-b-db-password-Zx9!";

const CONFIG = `
backends:
  env: { type: env }
  vault:
    type: vault
    endpoint: "http://127.0.0.1:1"
    auth: { method: approle, roleId: "\${ROLE_ID}", secretId: "\${ROLE_SECRET}" }
namespaces:
  - { match: "", backend: env }
  - { match: company.team-b, backend: vault }
`;

/** A child that prints its variables' names, then what it was told to read from files. */
const CHILD = `
const fs = require("node:fs");
console.log("names " + JSON.stringify(Object.keys(process.env).sort()));
console.log("token " + process.env.TOKEN);
for (const file of process.argv.slice(1)) console.log("read " + fs.readFileSync(file, "utf8"));
`;

/** The parent's environment: Keyway's own credentials, every team's env secrets, and ordinary variables. */
const PARENT = {
  PATH: process.env.PATH,
  HOME: "/home/runner",
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  MY_APP_SETTING: "ordinary",
  SECRET_API: b64("api-secret-value"),
  SECRET_TEAM_B_DB: b64(TEAM_B_SECRET),
  VAULT_TOKEN,
  BAO_TOKEN: VAULT_TOKEN,
  AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_SESSION_TOKEN: "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ",
  AWS_PROFILE: "prod-admin",
  AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials",
  AZURE_CLIENT_SECRET: "Q~8Q8~azure-client-secret-value",
  AZURE_CLIENT_ID: "00000000-1111-2222-3333-444444444444",
  GOOGLE_APPLICATION_CREDENTIALS: "/etc/gcp/sa.json",
  ROLE_ID: "role-id-4b9e2d7c",
  ROLE_SECRET,
};

async function run(flags: string[], files: string[] = [], env: Record<string, string | undefined> = PARENT) {
  const dir = await tempFiles({ "keyway.yaml": CONFIG });
  const paths: string[] = [];
  for (const [i, text] of files.entries()) {
    const file = path.join(dir, `found-${i}.txt`);
    await writeFile(file, text);
    paths.push(file);
  }
  const r = await cli(
    [
      "run",
      "-n",
      "company.team-a",
      "--env",
      "TOKEN=API",
      ...flags,
      "--",
      process.execPath,
      "-e",
      CHILD,
      ...paths,
    ],
    { env, cwd: dir },
  );
  const names = JSON.parse(/^names (.*)$/m.exec(r.stdout)?.[1] ?? "null") as string[] | null;
  return { ...r, names: names ?? [] };
}

describe("keyway run: what the child gets (trust issue #18 point 1)", () => {
  it("no SECRET_* variable, no backend credential, no variable the config read; the --env secrets and the rest", async () => {
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.names).toEqual(["HOME", "LANG", "LC_ALL", "MY_APP_SETTING", "PATH", "TOKEN"]);
    expect(r.stdout).toContain("token ******\n");
  });

  it("credentials Keyway holds are masked when the child finds them another way", async () => {
    const r = await run([], [VAULT_TOKEN, AWS_SECRET, ROLE_SECRET, TEAM_B_SECRET]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^read (.*)$/gm)).toEqual([
      "read ******",
      "read ******",
      "read ******",
      "read ******",
    ]);
    for (const value of [VAULT_TOKEN, AWS_SECRET, ROLE_SECRET, TEAM_B_SECRET]) {
      expect(r.stdout + r.stderr).not.toContain(value);
    }
  });

  it("--keep-env passes names and patterns on purpose", async () => {
    const r = await run(["--keep-env", "SECRET_*", "--keep-env", "VAULT_TOKEN"]);
    expect(r.names).toEqual([
      "HOME",
      "LANG",
      "LC_ALL",
      "MY_APP_SETTING",
      "PATH",
      "SECRET_API",
      "SECRET_TEAM_B_DB",
      "TOKEN",
      "VAULT_TOKEN",
    ]);
  });

  it("--clean-env passes only the --env secrets and the basics (plus --keep-env)", async () => {
    expect((await run(["--clean-env"])).names).toEqual(["HOME", "LANG", "LC_ALL", "PATH", "TOKEN"]);
    expect((await run(["--clean-env", "--keep-env", "MY_APP_*"])).names).toEqual([
      "HOME",
      "LANG",
      "LC_ALL",
      "MY_APP_SETTING",
      "PATH",
      "TOKEN",
    ]);
  });

  it("an --env secret may be named like a stripped variable: it is the secret asked for", async () => {
    const r = await cli(["run", "-n", "x", "--env", "VAULT_TOKEN=API", "--", process.execPath, "-e", CHILD], {
      env: { PATH: process.env.PATH, SECRET_API: b64("api-secret-value"), VAULT_TOKEN },
    });
    expect(JSON.parse(/^names (.*)$/m.exec(r.stdout)?.[1] ?? "[]")).toEqual(["PATH", "VAULT_TOKEN"]);
  });

  it("bad --env names and --keep-env patterns are usage errors", async () => {
    for (const flags of [
      ["--env", "1BAD=API"],
      ["--env", "A-B=API"],
      ["--env", "A\0B=API"],
      ["--keep-env", "A=B"],
      ["--keep-env", ""],
    ]) {
      const r = await cli(["run", "-n", "x", ...flags, "--", process.execPath, "-e", ""], {
        env: { SECRET_API: b64("api-secret-value") },
      });
      expect(r.code, flags.join(" ")).toBe(1);
      expect(r.stderr).toMatch(/^keyway: --(env|keep-env) /);
    }
  });
});

describe("keyway run: typed failures only (trust issue #18 point 5)", () => {
  const NUL_VALUE = "before\0after-s3cret-tail";

  for (const debug of [undefined, "1"]) {
    it(`a secret holding a NUL byte is InvalidSecretValueError, exit 3, naming the variable and key${debug ? " (KEYWAY_DEBUG=1)" : ""}`, async () => {
      const r = await cli(["run", "-n", "x", "--env", "TOKEN=API", "--", process.execPath, "-e", ""], {
        env: { PATH: process.env.PATH, SECRET_API: b64(NUL_VALUE), KEYWAY_DEBUG: debug },
      });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^keyway: .*TOKEN.*'API'.*NUL/);
      expect(r.stderr).not.toContain("unexpected");
      for (const part of ["before", "after-s3cret-tail", b64(NUL_VALUE)])
        expect(r.stderr).not.toContain(part);
    });
  }

  it("a NUL byte in the command or its arguments is a typed usage error that does not echo them", async () => {
    const r = await cli(["run", "-n", "x", "--", process.execPath, "-e", "arg-s3cret\0tail"], {
      env: { PATH: process.env.PATH, KEYWAY_DEBUG: "1" },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).not.toContain("arg-s3cret");
    expect(r.stderr).not.toContain("unexpected");
  });
});

describe("system errors are reported by code (trust issue #18 point 5)", () => {
  it("a closed stdout (EPIPE) is named by its code and call, not as an unexpected error", async () => {
    const { runCli } = await import("../src/index.js");
    const { Readable, Writable } = await import("node:stream");
    const err: string[] = [];
    const closed = new Writable({
      write(_chunk, _encoding, done) {
        done(Object.assign(new Error("write EPIPE /tmp/s3cret-path"), { code: "EPIPE", syscall: "write" }));
      },
    });
    const code = await runCli(["get", "API"], {
      stdin: Readable.from([]),
      stdout: closed,
      stderr: new Writable({
        write(chunk, _encoding, done) {
          err.push(String(chunk));
          done();
        },
      }),
      env: { SECRET_API: b64("api-secret-value") },
      cwd: process.cwd(),
    });
    expect([code, err.join("")]).toEqual([1, "keyway: system error EPIPE (write).\n"]);
  });
});
