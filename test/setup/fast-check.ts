// CI runs every property test with one fixed seed, so a submission's result does not depend on
// luck; on a developer's machine each run draws fresh inputs and keeps finding new cases.
// KEYWAY_FC_SEED replays a failure's seed (fast-check prints it) anywhere.
import fc from "fast-check";

const replay = process.env.KEYWAY_FC_SEED;
if (replay !== undefined) fc.configureGlobal({ seed: Number(replay) });
else if (process.env.CI === "true") fc.configureGlobal({ seed: 20261128 });
