#!/usr/bin/env node
"use strict";
// A plain `keyway get` with no config file runs from one CommonJS bundle (dist/hot.cjs, see
// src/hot.ts); every other call loads the ES module entry. npm links this bin before the build
// has written dist/, so it only loads built files.
function notBuilt(error) {
  process.stderr.write(
    error?.code === "ERR_MODULE_NOT_FOUND" || error?.code === "MODULE_NOT_FOUND"
      ? "keyway: not built yet; run `npm run build` at the repository root.\n"
      : `keyway: failed to start (${error?.name ?? "error"}).\n`,
  );
  process.exitCode = 1;
}

let hot;
try {
  hot = require("../dist/hot.cjs").runHot(process.argv.slice(2));
} catch (error) {
  notBuilt(error);
}
if (hot) hot.then((code) => (process.exitCode = code), notBuilt);
else if (process.exitCode !== 1) import("../dist/main.js").catch(notBuilt);
