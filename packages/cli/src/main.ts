/** Entry for `bin/keyway.js`. */
import { parseFastGet, runFastGet } from "./fast-get.js";
import type { CliIO } from "./io.js";

// Commands see the environment as the user gave it (a `keyway run` child inherits from it)...
const env = { ...process.env };
// ...while the AWS SDK, which reads process.env itself, keeps its Node 20 notice to itself unless
// the user set its switch (to "false") to see it: the README says what the notice means.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// Getters: node builds each standard stream on first use (about a millisecond for stdin), and
// most commands never read stdin or write to stderr.
const io: CliIO = {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env,
  cwd: process.cwd(),
};
const argv = process.argv.slice(2);
// A plain `get` skips loading commander (see fast-get.ts); everything else gets the full program.
const fast = parseFastGet(argv);
process.exitCode = fast ? await runFastGet(fast, io) : await (await import("./program.js")).runCli(argv, io);
