// The test harness's servers (test/servers/index.ts) for the bench, so the bench starts moto the
// way the tests do instead of keeping a copy of that code: Node 20 cannot import TypeScript, so
// the file is bundled in memory by rolldown (the project's bundler; the harness uses Node
// built-ins only) and imported as a data: URL, its import.meta.url pointing at the real file.
// A server not installed yet is installed first, by scripts/emulators/install.sh (what `npm test`
// runs before the tests; idempotent).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { rolldown } from "rolldown";

const HARNESS = new URL("../../test/servers/index.ts", import.meta.url);
const INSTALL = fileURLToPath(new URL("../../scripts/emulators/install.sh", import.meta.url));

let loaded;

/** test/servers/index.ts's exports (startServer, acquireServer, serverFromEnv, isInstalled…). */
export function harness() {
  loaded ??= (async () => {
    const bundle = await rolldown({
      input: fileURLToPath(HARNESS),
      platform: "node",
      transform: { define: { "import.meta.url": JSON.stringify(HARNESS.href) } },
      logLevel: "warn",
    });
    const { output } = await bundle.generate({ format: "esm" });
    await bundle.close();
    return import(`data:text/javascript;base64,${Buffer.from(output[0].code).toString("base64")}`);
  })();
  return loaded;
}

/**
 * The server `name` as the tests get it: an external one (KEYWAY_TEST_<NAME>_ENDPOINT), else the
 * installed one started on a free port, installing it first if needed. `stop()` when done.
 */
export async function acquireServer(name) {
  const servers = await harness();
  if (!servers.serverFromEnv(name) && !servers.isInstalled(name)) {
    process.stderr.write(`\nbench: installing ${name} (bash scripts/emulators/install.sh ${name})…\n`);
    execFileSync("bash", [INSTALL, name], { stdio: ["ignore", process.stderr, process.stderr] });
  }
  return servers.acquireServer(name);
}
