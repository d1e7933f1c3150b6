import { defineBackendContract } from "@keyway/backend-test-suite";
import * as vitest from "vitest";
import { createEnvBackend } from "../src/index.js";

defineBackendContract(vitest, "env", {
  namespaced: false,
  create: async (seed) =>
    createEnvBackend({
      env: Object.fromEntries(
        seed.map((s) => [`SECRET_${s.ref.key}`, Buffer.from(s.value).toString("base64")]),
      ),
    }),
});
