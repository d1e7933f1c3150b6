// `node ../../scripts/bundle.mjs src/index.ts [src/other.ts …]`, run by each package's build before
// `tsc` writes the declarations: empties dist/, then bundles the package's own modules into one file per entry
// (`src/a/b.ts` → `dist/a/b.js`). Why: Node's ES module loader costs about 1 ms per module file, and
// @keyway/core is ~25 small ones: bundled, importing core and the env backend went from ~33 ms to
// ~17 ms (`npm run bench -- --only=import-cost`). Modules that two entries share go to one shared
// chunk, so every entry of a package sees the same classes (`instanceof` holds across them).
// Dependencies, other packages and Node built-ins stay imports.
import { rmSync } from "node:fs";
import path from "node:path";
import { rolldown } from "rolldown";

const entries = process.argv.slice(2);
if (entries.length === 0 || entries.some((entry) => !/^src\/.+\.ts$/.test(entry)))
  throw new Error("usage: bundle.mjs src/<entry>.ts …");

rmSync("dist", { recursive: true, force: true }); // no file of an earlier layout survives
const bundle = await rolldown({
  input: Object.fromEntries(entries.map((entry) => [entry.slice("src/".length, -".ts".length), entry])),
  platform: "node",
  // Only relative imports are the package's own code.
  external: (id, importer) => importer !== undefined && !id.startsWith(".") && !path.isAbsolute(id),
  logLevel: "warn",
});
await bundle.write({
  dir: "dist",
  format: "esm",
  entryFileNames: "[name].js",
  chunkFileNames: "shared/[name].js",
  sourcemap: true,
});
await bundle.close();
