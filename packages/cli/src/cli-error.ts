/** The CLI's own failure: a message and an exit code (usage problems, bad input files). */
import { EXIT } from "./exit-codes.js";

/** A failure the CLI reports with a message and an exit code (usage problems, bad input files). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: number = EXIT.other,
  ) {
    super(message);
  }
}
