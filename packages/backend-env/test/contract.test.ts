import { defineBackendContract } from "../../../test/contract/index.js";
import { createEnvBackend } from "../src/index.js";

defineBackendContract("env", {
  namespaced: false,
  create: async (seed) =>
    createEnvBackend({
      env: Object.fromEntries(
        seed.map((s) => [`SECRET_${s.ref.key}`, Buffer.from(s.value).toString("base64")]),
      ),
    }),
});
