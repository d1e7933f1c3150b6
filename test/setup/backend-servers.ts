// The globalSetup of every backend-<type> project (vitest.config.ts): starts the servers its
// backends.json entry names, so a new backend needs no setup file of its own.

import type { ServerName } from "@keyway/test-servers";
import { setupFor } from "@keyway/test-servers/project-setup";
import type { TestProject } from "vitest/node";
import { SERVER_BACKENDS } from "../backends.js";

export default function setup(project: TestProject) {
  const backend = SERVER_BACKENDS.find((b) => `backend-${b.type}` === project.name);
  if (!backend)
    throw new Error(`[keyway] backends.json has no backend with servers for project ${project.name}`);
  return setupFor(...(backend.servers as ServerName[]))(project);
}
