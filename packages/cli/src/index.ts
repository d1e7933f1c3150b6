/**
 * @keyway/cli: the `keyway` command. `runCli(argv, io)` runs it in-process (tests, embedding);
 * `bin/keyway.js` runs it for a shell.
 */
export { runCli, buildProgram, ChildExit } from "./program.js";
export { type CliIO, EXIT } from "./io.js";
export { parseDotenv } from "./dotenv.js";
export { encodeDotenv, checkEncoded } from "./commands/encode-env.js";
