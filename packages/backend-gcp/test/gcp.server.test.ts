// The shared backend contract against the real gcp-secret-manager-emulator (native gRPC).
import { describe } from "vitest";
import { defineBackendContract, seedByPut } from "../../../test/contract/index.js";
import { createGcpBackend } from "../src/index.js";
import { endpoint, randomPrefix, randomProject } from "./emulator.js";

describe.skipIf(!endpoint)("gcp on the emulator", () => {
  defineBackendContract("gcp", {
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
