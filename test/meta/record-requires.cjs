// Preloaded with --require: at exit, lists every CommonJS module the process loaded (the import-
// cost tests; ES modules are recorded by record-imports.mjs).
"use strict";
process.on("exit", () => {
  for (const file of Object.keys(require.cache)) process.stderr.write(`[required] ${file}\n`);
});
