/**
 * Packaging and docs rules (issue #20 points 2 and 7): what a user gets from `npm install` and from
 * the README. The slow half (pack, install in a fresh project, import, type-check, publint, attw)
 * is scripts/check-packages.mjs, run by `npm test`; these are the quick rules it relies on.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../packages/cli/src/program.js";
import { cli } from "../../packages/cli/test/harness.js";
import { BACKENDS } from "../backends.js";

const root = path.resolve(__dirname, "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const json = (file: string) => JSON.parse(read(file));
const split = (pair: string) => pair.split(":") as [string, string];

interface Manifest {
  name: string;
  version: string;
  license?: string;
  exports?: Record<string, unknown>;
  files?: string[];
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  optionalDependencies?: Record<string, string>;
}

// Published packages only: a private workspace (@keyway/test-servers) is never packed for users.
const dirs = readdirSync(path.join(root, "packages")).filter(
  (d) =>
    existsSync(path.join(root, "packages", d, "package.json")) &&
    json(`packages/${d}/package.json`).private !== true,
);
const manifests = new Map<string, Manifest>(dirs.map((d) => [d, json(`packages/${d}/package.json`)]));
const versions = new Map([...manifests.values()].map((m) => [m.name, m.version]));
const kinds = ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const;

/** `^x.y.z` that `version` satisfies (caret: same major, or same 0.minor below 1.0). */
function caretHolds(range: string, version: string): boolean {
  const base = /^\^(\d+)\.(\d+)\.(\d+)$/.exec(range)?.slice(1).map(Number);
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(version)?.slice(1).map(Number);
  if (!base || !have) return false;
  const [bM, bm, bp] = base as [number, number, number];
  const [hM, hm, hp] = have as [number, number, number];
  if (hM !== bM || (bM === 0 && hm !== bm)) return false;
  return hm > bm || (hm === bm && hp >= bp);
}

describe("packages (trust issue #20 point 2)", () => {
  it("caretHolds reads caret ranges as npm does", () => {
    expect(["^0.1.0:0.1.0", "^0.1.0:0.1.7", "^1.2.0:1.9.0"].every((c) => caretHolds(...split(c)))).toBe(true);
    expect(
      ["*:0.1.0", "^0.1.0:0.2.0", "^0.1.2:0.1.1", "^1.2.0:2.0.0", "0.1.0:0.1.0"].some((c) =>
        caretHolds(...split(c)),
      ),
    ).toBe(false);
  });

  it.each(dirs)(
    "%s: every internal range is a caret range its package's version satisfies, never '*'",
    (dir) => {
      const manifest = manifests.get(dir) as Manifest;
      const wrong: string[] = [];
      for (const kind of kinds)
        for (const [name, range] of Object.entries(manifest[kind] ?? {})) {
          const version = versions.get(name);
          // '*' is published as is: the installed CLI would take any @keyway/core ever published.
          if (version !== undefined && !caretHolds(range, version)) wrong.push(`${kind}.${name}: ${range}`);
        }
      expect(wrong).toEqual([]);
    },
  );

  it.each(dirs)("%s: ships README.md, CHANGELOG.md and the root's Apache-2.0 LICENSE", (dir) => {
    const manifest = manifests.get(dir) as Manifest;
    expect(manifest.license).toBe("Apache-2.0");
    const license = read("LICENSE");
    expect(license).toContain("Apache License\n                           Version 2.0, January 2004");
    // npm packs a LICENSE only from the package's own folder, so each package holds a copy.
    expect(read(`packages/${dir}/LICENSE`)).toBe(license);
    expect(read(`packages/${dir}/README.md`)).toContain(`# ${manifest.name}`);
    expect(read(`packages/${dir}/CHANGELOG.md`)).toContain(`## ${manifest.version}`);
  });

  it.each(dirs)("%s: exports put types first and expose ./package.json", (dir) => {
    const exports = (manifests.get(dir) as Manifest).exports ?? {};
    expect(exports["./package.json"]).toBe("./package.json");
    for (const [subpath, target] of Object.entries(exports)) {
      if (typeof target === "string") continue;
      expect(Object.keys(target as object)[0], subpath).toBe("types");
    }
  });

  it("@keyway/core declares each backend it imports by type name as an optional peer", () => {
    // config/index.ts imports `@keyway/backend-<type>/definition`: strict layouts (pnpm) resolve
    // that only for declared dependencies, and npm checks the version of a declared peer.
    const core = manifests.get("core") as Manifest;
    for (const { package: name } of BACKENDS.filter((b) => !b.example)) {
      expect(caretHolds(core.peerDependencies?.[name] ?? "", versions.get(name) ?? ""), name).toBe(true);
      expect(core.peerDependenciesMeta?.[name]?.optional, name).toBe(true);
    }
  });

  it("changesets is configured with every package in one fixed version group", () => {
    const config = json(".changeset/config.json");
    expect(config.fixed).toEqual([["@keyway/*"]]);
    expect(config.access).toBe("public");
  });

  it("`npm test` runs scripts/check-packages.mjs (so CI does)", () => {
    expect(existsSync(path.join(root, "scripts/check-packages.mjs"))).toBe(true);
    expect(json("package.json").scripts.test).toMatch(/node scripts\/check-packages\.mjs/);
  });

  it("keyway --version prints @keyway/cli's version (trust issue #20 point 6)", async () => {
    const run = await cli(["--version"]);
    expect(run).toMatchObject({ code: 0, stderr: "", stdout: `${versions.get("@keyway/cli")}\n` });
  });
});

describe("docs (trust issue #20 point 7)", () => {
  const readme = read("README.md");

  it("the README's command list names every command the CLI has", () => {
    const block = /## The `keyway` command\n\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const listed = new Set([...block.matchAll(/keyway ([a-z-]+)/g)].map((m) => m[1]));
    const commands = buildProgram({} as never).commands.map((c) => c.name());
    expect(commands.length).toBeGreaterThan(10);
    expect(commands.filter((c) => !listed.has(c))).toEqual([]);
  });

  it("no markdown file has an empty code block", () => {
    const files = ["README.md", ...dirs.map((d) => `packages/${d}/README.md`)].filter((f) =>
      existsSync(path.join(root, f)),
    );
    const empty = files.filter((f) => /^```[a-z]*\n```$/m.test(read(f)));
    expect(empty).toEqual([]);
  });

  it("every repository doc that a script or README names exists", () => {
    const sources = [
      "README.md",
      "scripts/emulators/install.sh",
      ...dirs.map((d) => `packages/${d}/README.md`),
    ];
    const missing: string[] = [];
    for (const file of sources.filter((f) => existsSync(path.join(root, f))))
      for (const [doc] of read(file).matchAll(
        /(?<![\w./-])(?:docs|test|scripts|examples|packages)\/[\w./-]+\.md\b/g,
      ))
        if (!existsSync(path.join(root, doc))) missing.push(`${file} → ${doc}`);
    expect(missing).toEqual([]);
  });

  it("typedoc is configured and `npm run docs` writes into a git-ignored folder", () => {
    const config = json("typedoc.json");
    expect(json("package.json").scripts.docs).toMatch(/typedoc/);
    const out = String(config.out).replace(/^\.\//, "");
    expect(read(".gitignore").split("\n")).toContain(`${out}/`);
  });
});
