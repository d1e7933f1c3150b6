// `node scripts/list-exports.mjs [--json]`: the names each entry of @keyway/core exports (values and
// types), read from the TypeScript sources with the compiler API, entry by entry as package.json's
// `exports` lists them. packages/core/test/exports.test.ts holds the committed lists; after a
// deliberate change of the public surface, `--json` prints the new ones to paste there.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const core = path.resolve(fileURLToPath(import.meta.url), "../../packages/core");

/** `{ ".": "src/index.ts", "./backend": "src/backend-kit/index.ts", … }` from package.json's exports. */
export function coreEntries() {
  const { exports } = JSON.parse(readFileSync(path.join(core, "package.json"), "utf8"));
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([subpath]) => subpath !== "./package.json")
      .map(([subpath, target]) => [
        subpath,
        target.default.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"),
      ]),
  );
}

/** The sorted names each entry exports. */
export function listExports(entries = coreEntries()) {
  const files = Object.values(entries).map((file) => path.join(core, file));
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  return Object.fromEntries(
    Object.entries(entries).map(([subpath, file]) => {
      const source = program.getSourceFile(path.join(core, file));
      if (!source) throw new Error(`cannot read ${file}`);
      const module = checker.getSymbolAtLocation(source);
      const names = module ? checker.getExportsOfModule(module).map((s) => s.name) : [];
      return [subpath, names.sort()];
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lists = listExports();
  if (process.argv.includes("--json")) console.log(JSON.stringify(lists, null, 2));
  else
    for (const [subpath, names] of Object.entries(lists))
      console.log(`@keyway/core${subpath.slice(1)}: ${names.length}\n  ${names.join(" ")}`);
}
