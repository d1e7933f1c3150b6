import { defineBackendContract, seedByPut } from "@keyway/backend-test-suite";
import * as vitest from "vitest";
import { createMemoryBackend } from "../src/index.js";

defineBackendContract(vitest, "memory", {
  create: (seed) => seedByPut(createMemoryBackend({ maxValueBytes: 4096 }), seed),
});
