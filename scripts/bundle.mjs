// `node ../../scripts/bundle.mjs src/index.ts [src/other.ts …]`, run by each package's build before
// `tsc` writes the declarations: empties dist/, then bundles the package's own modules into one
// file per entry (`src/a/b.ts` → `dist/a/b.js`). Why: Node's ES module loader costs about 1 ms per
// module file, and @keyway/core is ~25 small ones: bundled, importing core and the env backend went
// from ~33 ms to ~16 ms (`npm run bench -- --only=import-cost`). An import of another entry stays
// an import of that entry's file (config/index.ts imports `../index.js`), and modules two entries
// share otherwise go to one shared chunk: either way every entry sees the same classes
// (`instanceof` holds across them; test/meta checks it). Dependencies, other packages and Node
// built-ins stay imports.
import { rmSync } from "node:fs";
import path from "node:path";
import { rolldown } from "rolldown";

const entries = process.argv.slice(2);
if (entries.length === 0 || entries.some((entry) => !/^src\/.+\.ts$/.test(entry)))
  throw new Error("usage: bundle.mjs src/<entry>.ts …");

rmSync("dist", { recursive: true, force: true }); // no file of an earlier layout survives
const entryFiles = new Set(entries.map((entry) => path.resolve(entry)));
const bundle = await rolldown({
  input: Object.fromEntries(entries.map((entry) => [entry.slice("src/".length, -".ts".length), entry])),
  platform: "node",
  external: (id, importer) => {
    if (importer === undefined) return false;
    // Dependencies, other packages and Node built-ins.
    if (!id.startsWith(".") && !path.isAbsolute(id)) return true;
    // Another entry of this package stays an import of that entry's own file.
    const target = path.resolve(path.dirname(importer), id).replace(/\.js$/, ".ts");
    return entryFiles.has(target);
  },
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
