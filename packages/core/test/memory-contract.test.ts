import { defineBackendContract, seedByPut } from "../../../test/contract/index.js";
import { createMemoryBackend } from "../src/index.js";

defineBackendContract("memory", {
  create: (seed) => seedByPut(createMemoryBackend({ maxValueBytes: 4096 }), seed),
});
