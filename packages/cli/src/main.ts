/** The ES module entry of `bin/keyway.cjs`: every call but the hot path of hot.ts. */
import { parseFastGet, runFastGet } from "./fast-get.js";
import { processIO } from "./io.js";

// Commands see the environment as the user gave it (a `keyway run` child inherits from it)...
const io = processIO({ ...process.env });
// ...while the AWS SDK, which reads process.env itself, keeps its Node 20 notice to itself unless
// the user set its switch (to "false") to see it: the README says what the notice means.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const argv = process.argv.slice(2);
// A plain `get` (with a config file, else hot.ts took it) skips commander; the rest get the program.
const fast = parseFastGet(argv);
process.exitCode = fast ? await runFastGet(fast, io) : await (await import("./program.js")).runCli(argv, io);
