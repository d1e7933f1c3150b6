/** Files only their owner may read: `keyway store`'s key files and `keyway serve`'s token file. */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

/**
 * Writes a new file of `text` (mode 0600; its folder made 0700 when missing), refusing to replace
 * one: a key or token that exists is never overwritten. `what` names it in the error.
 */
export async function createSecretFile(file: string, text: string, what: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, `${text}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new CliError(
        `The ${what} ${file} exists already; keyway never replaces a ${what}.`,
        EXIT.invalid,
      );
    throw error;
  }
  await chmod(file, 0o600); // the umask may have taken bits off, never added: make it exact
}
