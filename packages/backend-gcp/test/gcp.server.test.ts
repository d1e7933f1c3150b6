// The shared backend contract against the real gcp-secret-manager-emulator (native gRPC).

import { defineBackendContract, seedByPut } from "@keyway/backend-test-suite";
import * as vitest from "vitest";
import { describe } from "vitest";
import { createGcpBackend } from "../src/index.js";
import { endpoint, randomPrefix, randomProject } from "./emulator.js";

describe.skipIf(!endpoint)("gcp on the emulator", () => {
  defineBackendContract(vitest, "gcp", {
    create: (seed) =>
      seedByPut(
        createGcpBackend({
          project: randomProject(),
          prefix: randomPrefix(),
          emulatorEndpoint: endpoint as string,
        }),
        seed,
      ),
  });
});
