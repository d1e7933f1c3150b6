/**
 * The one way the CLI writes a file: all or nothing, and never through someone else's symlink.
 * The data goes to a temporary file in the target's folder (so the rename stays on one file
 * system), created exclusively under a random name (O_CREAT | O_EXCL | O_NOFOLLOW: an existing
 * file or symlink there fails the write instead of being followed), mode 0600 (it holds
 * secrets), synced, then renamed over the target. On any failure the temporary file is removed.
 * `write-file-atomic` was not used: it opens its temporary file with `w`, which follows a symlink.
 */

import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import path from "node:path";

/** Longest part of the target's name kept in the temporary name (names are limited to 255 bytes). */
const MAX_BASE = 100;

// O_NOFOLLOW does not exist on Windows, where O_EXCL alone refuses an existing link.
const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Writes `data` to `target` atomically; the file ends up with mode 0600. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const base = path.basename(target).slice(0, MAX_BASE);
  const temporary = path.join(path.dirname(target), `.${base}.${randomBytes(16).toString("hex")}.tmp`);
  const handle = await open(temporary, FLAGS, 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
