// `node ../../scripts/bundle-hot.mjs src/hot.ts`, run by the CLI's build after bundle.mjs: bundles
// the start-up hot path (src/hot.ts) with everything it imports, @keyway/core, @keyway/backend-env
// and lru-cache included, into one CommonJS file, dist/hot.cjs. Why one CommonJS file: Node's ES
// module loader reads every module asynchronously and costs a third of a bare `node -e 0` by
// itself; see src/hot.ts and `npm run bench -- --only=cli-startup`.
//
// The config loader stays an import (the hot path never runs with a config file), and so do
// Node's built-ins. Minified: the bundle is parsed on every `keyway get`.
import { existsSync } from "node:fs";
import { rolldown } from "rolldown";

const [entry] = process.argv.slice(2);
if (!entry || !/^src\/.+\.ts$/.test(entry)) throw new Error("usage: bundle-hot.mjs src/<entry>.ts");
if (!existsSync("dist")) throw new Error("bundle-hot.mjs runs after bundle.mjs (dist/ is missing)");

const bundle = await rolldown({
  input: entry,
  platform: "node",
  external: ["@keyway/core/config"],
  plugins: [
    {
      // The env backend checks given options on first use through its definition entry (which
      // loads zod): kept an import of that entry, by package name, so zod stays out of this file.
      name: "keyway-env-definition",
      resolveId: (source, importer) =>
        source === "./definition.js" && /backend-env[\\/]dist[\\/]index\.js$/.test(importer ?? "")
          ? { id: "@keyway/backend-env/definition", external: true }
          : null,
    },
  ],
  logLevel: "warn",
});
// lru-cache's licence asks that its text or a link travel with every copy.
const banner =
  "/*! @keyway/cli hot path. Bundles @keyway/core and @keyway/backend-env (Apache-2.0) and lru-cache " +
  "(BlueOak-1.0.0, https://blueoakcouncil.org/license/1.0.0). */";
await bundle.write({ file: "dist/hot.cjs", format: "cjs", codeSplitting: false, minify: true, banner });
await bundle.close();
