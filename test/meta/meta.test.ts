/** Project-wide checks: every backend runs the contract, and importing core stays light. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BUILT_IN_BACKEND_TYPES } from "@keyway/core/config";
import { describe, expect, it } from "vitest";
import { BACKENDS } from "../backends.js";

const root = path.resolve(__dirname, "../..");
const packages = path.join(root, "packages");

describe("project rules", () => {
  it.each(BACKENDS.map((b) => b.dir))("%s runs the shared contract suite", (dir) => {
    const tests = path.join(root, dir, "test");
    const files = existsSync(tests) ? readdirSync(tests).filter((f) => f.endsWith(".test.ts")) : [];
    const callers = files.filter((f) =>
      readFileSync(path.join(tests, f), "utf8").includes("defineBackendContract("),
    );
    expect(callers, `${dir}/test has no test calling defineBackendContract`).not.toHaveLength(0);
  });

  /** The workspace packages that export a backend definition: each must be a manifest line. */
  const definers = readdirSync(packages).filter((dir) => {
    const file = path.join(packages, dir, "package.json");
    return existsSync(file) && "./definition" in (JSON.parse(readFileSync(file, "utf8")).exports ?? {});
  });
  const packageName = (dir: string) =>
    JSON.parse(readFileSync(path.join(packages, dir, "package.json"), "utf8")).name as string;

  it("every package that exports a backend definition is in backends.json", () => {
    expect(definers.length).toBeGreaterThan(0);
    const listed = new Set(BACKENDS.map((b) => b.dir));
    for (const dir of definers)
      expect(listed, `packages/${dir} is missing from backends.json`).toContain(`packages/${dir}`);
  });

  it("core knows every published backend of backends.json as a built-in type (keyway run hides their credentials)", () => {
    const published = BACKENDS.filter((b) => !b.example).map((b) => b.type);
    expect([...BUILT_IN_BACKEND_TYPES].sort()).toEqual([...published].sort());
    for (const backend of BACKENDS.filter((b) => !b.example))
      expect(backend.package).toBe(`@keyway/backend-${backend.type}`);
  });

  it("npm run test:containers runs every server suite of backends.json against its container endpoints", () => {
    // A stand-in `npx` first on PATH prints what the script would run, and with which endpoints.
    const bin = mkdtempSync(path.join(tmpdir(), "keyway-containers-"));
    try {
      const npx = path.join(bin, "npx");
      writeFileSync(npx, '#!/bin/sh\necho "ARGS $*"\nenv | grep "^KEYWAY_TEST_" | sort\n', { mode: 0o755 });
      const env = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("KEYWAY_TEST_")),
      );
      const result = spawnSync("bash", [path.join(root, "scripts/test-containers.sh"), "--bail=1"], {
        env: {
          ...env,
          PATH: `${bin}:${process.env.PATH}`,
          KEYWAY_TEST_MOTO_ENDPOINT: "http://127.0.0.1:5000",
        },
        encoding: "utf8",
      });
      expect(result.stderr).toBe("");
      const suites = BACKENDS.filter((b) => b.servers.length > 0);
      const projects = suites.map((b) => `--project backend-${b.type}`).join(" ");
      expect(result.stdout).toContain(`ARGS vitest run ${projects} --bail=1\n`);
      for (const [name, value] of suites.flatMap((b) => Object.entries(b.containers))) {
        // A variable already set wins over the manifest's default.
        const expected = name === "KEYWAY_TEST_MOTO_ENDPOINT" ? "http://127.0.0.1:5000" : value;
        expect(result.stdout).toContain(`\n${name}=${expected}\n`);
      }
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  it("the README's package table lists exactly the published backends of backends.json", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `(@[^`]+|[^`@]+)` \| (.+) \|$/gm)]
      .filter(
        ([, name]) =>
          BACKENDS.some((b) => b.package === name) || definers.map(packageName).includes(name ?? ""),
      )
      .map(([, name, summary]) => ({ name, summary }));
    const published = BACKENDS.filter((b) => !b.example).map((b) => ({
      name: b.package,
      summary: b.summary,
    }));
    expect(rows).toEqual(published);
  });

  it("importing @keyway/core and the env backend loads no cloud SDK, zod or yaml", () => {
    const built = path.join(packages, "core/dist/index.js");
    expect(existsSync(built), "run `npm run build` first (npm test does)").toBe(true);
    const run = spawnSync(
      process.execPath,
      [
        "--import",
        "./test/meta/register.mjs",
        "--input-type=module",
        "-e",
        "await import('@keyway/core'); await import('@keyway/backend-env');",
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    const loaded = run.stderr.split("\n").filter((l) => l.startsWith("[resolved]"));
    expect(loaded.some((l) => l.includes("lru-cache"))).toBe(true); // the hook works
    const heavy = loaded.filter((l) =>
      /node_modules\/(zod|yaml|@aws-sdk|@azure|@google-cloud|google-gax|node-vault|@opentelemetry)\//.test(l),
    );
    expect(heavy).toEqual([]);
  });
  /** Runs the built bin with both module recorders; returns stdout and the files each loader loaded. */
  function traced(args: string[], files: Record<string, string> = {}) {
    const bin = path.join(packages, "cli/bin/keyway.cjs");
    expect(existsSync(path.join(packages, "cli/dist/hot.cjs")), "run `npm run build` first").toBe(true);
    const cwd = mkdtempSync(path.join(tmpdir(), "keyway-meta-"));
    try {
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(cwd, name), text);
      const run = spawnSync(
        process.execPath,
        [
          "--require",
          path.join(root, "test/meta/record-requires.cjs"),
          "--import",
          path.join(root, "test/meta/register.mjs"),
          bin,
          ...args,
        ],
        {
          cwd,
          encoding: "utf8",
          env: { PATH: process.env.PATH, SECRET_K: Buffer.from("v").toString("base64") },
        },
      );
      const lines = run.stderr.split("\n");
      return {
        stdout: run.stdout,
        imported: lines.filter((l) => l.startsWith("[resolved]") && /\/(packages|node_modules)\//.test(l)),
        required: lines.filter((l) => l.startsWith("[required]")),
      };
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }

  it("`keyway get` with no config file runs from one CommonJS bundle: no ES module of ours (issues 13, 20)", () => {
    const { stdout, imported, required } = traced(["get", "K"]);
    expect(stdout).toBe("v");
    expect(required.some((l) => l.endsWith("/cli/dist/hot.cjs"))).toBe(true); // the recorder works
    // (With a hook registered, node resolves the entry itself through it: that one is expected.)
    expect(imported.filter((l) => !l.endsWith("/cli/bin/keyway.cjs"))).toEqual([]);
    expect(required.filter((l) => /node_modules\/(zod|yaml|commander)\//.test(l))).toEqual([]);
  });

  it("`keyway get` with a config file loads the config loader but not commander nor another command (issue 20)", () => {
    const config = "backends: { e: { type: env } }\nnamespaces: [{ match: '', backend: e }]\n";
    const { stdout, imported } = traced(["get", "K"], { "keyway.yaml": config });
    expect(stdout).toBe("v");
    expect(imported.some((l) => /core\/dist\/config\/index\.js/.test(l))).toBe(true); // the hook works
    const unwanted = imported.filter((l) =>
      /node_modules\/commander\/|cli\/dist\/shared\/(template|write|move|redact|encode-env|program)/.test(l),
    );
    expect(unwanted).toEqual([]);
  });

  it("the built entries of @keyway/core share one copy of its classes", () => {
    // Each entry is bundled (scripts/bundle.mjs); a module bundled into two of them would give two
    // ConfigurationError classes, and `instanceof` would fail for errors from the other entry.
    const script = `
      const core = await import("@keyway/core");
      const { parseConfig } = await import("@keyway/core/config");
      try { parseConfig("backends: [", {}); } catch (error) {
        process.stdout.write(String(error instanceof core.ConfigurationError && error instanceof core.SecretsError));
      }`;
    const run = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("true");
  });
});

describe("README", () => {
  it("its keyway.yaml example is a valid configuration for the real backend types", async () => {
    const { createRouterFromConfig, parseConfig } = await import("@keyway/core/config");
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const yaml = /```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(yaml).toBeDefined();
    const env = { ROLE_ID: "role", SECRET_ID: "secret" };
    const router = await createRouterFromConfig(parseConfig(yaml ?? "", { env }), { env });
    expect(router.ruleFor("company.finance.x")?.backend).toBe("vault");
    await router.close();
  });
});
