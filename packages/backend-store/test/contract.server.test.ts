// The shared backend contract (with the compare-and-set, soft-delete and subscribe groups) on both
// engines: a PostgreSQL database on the test cluster and an embedded folder.

import { defineBackendContract, seedByPut } from "@keyway/backend-test-suite";
import * as vitest from "vitest";

import { ENGINES, newStore, openStore } from "./helpers.js";

vitest.describe("store backend", () => {
  for (const engine of ENGINES) {
    defineBackendContract(vitest, `store (${engine})`, {
      create: async (seed) => {
        const { options } = await newStore(engine);
        return seedByPut(openStore({ ...options, name: `store-${engine}` }), seed);
      },
    });
  }
});
