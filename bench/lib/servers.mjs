// The test servers for the bench, from the workspace package the tests use (@keyway/test-servers,
// built by `npm run build`), so the bench starts moto the way the tests do instead of keeping a
// copy of that code. A server not installed yet is installed first, by scripts/emulators/install.sh
// (what `npm test` runs before the tests; idempotent).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as servers from "@keyway/test-servers";

const INSTALL = fileURLToPath(new URL("../../scripts/emulators/install.sh", import.meta.url));

/**
 * The server `name` as the tests get it: an external one (KEYWAY_TEST_<NAME>_ENDPOINT), else the
 * installed one started on a free port, installing it first if needed. `stop()` when done.
 */
export async function acquireServer(name) {
  if (!servers.serverFromEnv(name) && !servers.isInstalled(name)) {
    process.stderr.write(`\nbench: installing ${name} (bash scripts/emulators/install.sh ${name})…\n`);
    execFileSync("bash", [INSTALL, name], { stdio: ["ignore", process.stderr, process.stderr] });
  }
  return servers.acquireServer(name);
}
