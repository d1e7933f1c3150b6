/** Entry for `bin/keyway.js`. */
import { runCli } from "./program.js";

// Getters: node builds each standard stream on first use (about a millisecond for stdin), and
// most commands never read stdin or write to stderr.
const code = await runCli(process.argv.slice(2), {
  get stdin() {
    return process.stdin;
  },
  get stdout() {
    return process.stdout;
  },
  get stderr() {
    return process.stderr;
  },
  env: process.env,
  cwd: process.cwd(),
});
process.exitCode = code;
