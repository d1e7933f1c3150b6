// The shared backend contract (with the compare-and-set, soft-delete and subscribe groups) on both
// engines: a PostgreSQL database on the test cluster and an embedded folder.
import { describe } from "vitest";
import { defineBackendContract, seedByPut } from "../../../test/contract/index.js";

import { ENGINES, newStore, openStore } from "./helpers.js";

describe("store backend", () => {
  for (const engine of ENGINES) {
    defineBackendContract(`store (${engine})`, {
      create: async (seed) => {
        const { options } = await newStore(engine);
        return seedByPut(openStore({ ...options, name: `store-${engine}` }), seed);
      },
    });
  }
});
