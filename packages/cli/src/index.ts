/**
 * @keyway/cli: the `keyway` command. `runCli(argv, io)` runs it in-process (tests, embedding);
 * `bin/keyway.cjs` runs it for a shell.
 */

export { ChildExit } from "./child-exit.js";
export { checkEncoded, encodeDotenv } from "./commands/encode-env.js";
export { parseDotenv } from "./dotenv.js";
export { exitCodeFor } from "./exit-codes.js";
export { type CliIO, EXIT } from "./io.js";
export { buildProgram, runCli } from "./program.js";
