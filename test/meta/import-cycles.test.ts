/**
 * No import cycle anywhere (issue #19): each package's `src` (the CLI's included) is read by
 * madge, with the package's tsconfig so NodeNext's `./x.js` specifiers resolve to `./x.ts`.
 * Every kind of import counts: a value import, an `import type` (a type cycle still ties two
 * rooms together), and an `import()` (a lazy load still depends on what it loads). A failure
 * names every cycle, as `a.ts > b.ts > a.ts`, per package.
 */
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import madge from "madge";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const packagesDir = path.join(root, "packages");

/** Each workspace package with TypeScript sources, found on disk so a new package is checked too. */
const packages = readdirSync(packagesDir).filter(
  (name) =>
    existsSync(path.join(packagesDir, name, "src")) &&
    existsSync(path.join(packagesDir, name, "tsconfig.json")),
);

/** The cycles among one package's source files (paths relative to its `src`). */
async function cyclesOf(name: string): Promise<{ cycles: string[][]; files: number }> {
  const dir = path.join(packagesDir, name);
  const graph = await madge(path.join(dir, "src"), {
    fileExtensions: ["ts"],
    tsConfig: path.join(dir, "tsconfig.json"),
    excludeRegExp: [/\.d\.ts$/],
    detectiveOptions: { ts: { skipTypeImports: false, skipAsyncImports: false } },
  });
  return { cycles: graph.circular(), files: Object.keys(graph.obj()).length };
}

describe("import cycles", () => {
  it("finds the packages", () => {
    expect(packages).toEqual(expect.arrayContaining(["core", "cli", "backend-env"]));
  });

  it("no package's sources import each other in a cycle", { timeout: 120_000 }, async () => {
    const found: string[] = [];
    for (const name of packages) {
      const { cycles, files } = await cyclesOf(name);
      // A graph of one file would mean the specifiers did not resolve: then no cycle could show.
      expect(files, `madge read only ${files} file(s) of packages/${name}/src`).toBeGreaterThan(1);
      for (const cycle of cycles) found.push(`packages/${name}/src: ${[...cycle, cycle[0]].join(" > ")}`);
    }
    if (found.length > 0)
      expect.fail(
        `${found.length} import cycle(s) (counting \`import type\` and \`import()\`); break each by ` +
          `moving what both sides need into a module of its own, or by passing an interface in:\n  ${found.join("\n  ")}`,
      );
  });
});
