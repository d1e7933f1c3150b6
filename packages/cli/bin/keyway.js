#!/usr/bin/env node
// npm links this bin before the build has written dist/, so it only imports the built entry.
import("../dist/main.js").catch((error) => {
  process.stderr.write(
    error?.code === "ERR_MODULE_NOT_FOUND"
      ? "keyway: not built yet; run `npm run build` at the repository root.\n"
      : `keyway: failed to start (${error?.name ?? "error"}).\n`,
  );
  process.exitCode = 1;
});
