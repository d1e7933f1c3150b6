// A Vitest globalSetup per backend project: starts only the servers that project needs, by
// handing their names to the shared global setup.
import type { TestProject } from "vitest/node";
import setup from "./global-setup.js";
import type { ServerName } from "./index.js";

export function setupFor(...names: ServerName[]) {
  return (project: TestProject) => {
    // Read synchronously at the start of setup(), so concurrent projects do not race.
    process.env.KEYWAY_SERVERS = names.join(",");
    return setup(project);
  };
}
