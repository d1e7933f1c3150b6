// CI runs every property test with one fixed seed, so a submission's result does not depend on
// luck; on a developer's machine each run draws fresh inputs and keeps finding new cases.
import fc from "fast-check";

if (process.env.CI === "true") fc.configureGlobal({ seed: 20261128 });
