// Temporary directories for tests, each removed after its test file (issue 13: a run used to
// leave ~56 keyway-* directories in the OS temp dir). A setup file too, so the afterAll below is
// registered for every test file, whichever helper first imports this module.
import { mkdtempSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

const created = new Set<string>();

/** A new directory `<os temp dir>/<prefix>XXXXXX`, removed with its contents after the test file. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** `tempDir`, synchronously (for setup code that cannot await). */
export function tempDirSync(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  created.add(dir);
  return dir;
}

/** Removes every directory made so far (also done after each file). */
export async function removeTempDirs(): Promise<void> {
  const dirs = [...created];
  created.clear();
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}

afterAll(removeTempDirs);
