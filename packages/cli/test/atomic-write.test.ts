// Trust issue #18 point 7: `encode-env --output` wrote through `<target>.<pid>.tmp`, a name anyone
// can guess, and followed a symlink placed there: the encoded secrets went wherever it pointed,
// and the rename then put that symlink in the target's place. The temporary file is now created
// exclusively (O_EXCL | O_NOFOLLOW), mode 0600, under a random name in the target's folder.
import { lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { writeFileAtomic } from "../src/atomic-write.js";
import { cli, tempFiles } from "./harness.js";

// Lets a test know the "random" name in advance, as an attacker who could guess it would.
const random = vi.hoisted(() => ({ fixed: undefined as Buffer | undefined }));
vi.mock("node:crypto", async (original) => {
  const crypto = await original<typeof import("node:crypto")>();
  const randomBytes = (size: number) => random.fixed ?? crypto.randomBytes(size);
  return { ...crypto, default: { ...crypto, randomBytes }, randomBytes };
});

const DOTENV = "API_TOKEN=s3cret-token-value\n";
const ENCODED = `SECRET_API_TOKEN=${Buffer.from("s3cret-token-value").toString("base64")}\n`;

describe("atomic writes (trust issue #18 point 7)", () => {
  it("a symlink at the old guessable name is not followed", async () => {
    const dir = await tempFiles({ ".env": DOTENV, "victim.txt": "untouched" });
    const target = path.join(dir, "out.env");
    symlinkSync(path.join(dir, "victim.txt"), `${target}.${process.pid}.tmp`);
    const r = await cli(["encode-env", ".env", "--output", "out.env"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, "victim.txt"), "utf8")).toBe("untouched");
    expect(lstatSync(target).isSymbolicLink()).toBe(false);
    expect(readFileSync(target, "utf8")).toBe(ENCODED);
    expect(lstatSync(target).mode & 0o777).toBe(0o600);
  });

  it("a symlink at the temporary name itself fails the write: nothing written through it, nothing left", async () => {
    const dir = await tempFiles({ "victim.txt": "untouched" });
    const target = path.join(dir, "out.env");
    random.fixed = Buffer.alloc(16, 7);
    try {
      const temporary = path.join(dir, `.out.env.${random.fixed.toString("hex")}.tmp`);
      symlinkSync(path.join(dir, "victim.txt"), temporary);
      await expect(writeFileAtomic(target, ENCODED)).rejects.toMatchObject({ code: "EEXIST" });
      expect(readFileSync(path.join(dir, "victim.txt"), "utf8")).toBe("untouched");
      expect(readdirSync(dir).sort()).toEqual([path.basename(temporary), "victim.txt"].sort());
    } finally {
      random.fixed = undefined;
    }
  });

  it("replaces an existing file whole, and a failed rename leaves no temporary file", async () => {
    const dir = await tempFiles({ "out.env": "old" });
    await writeFileAtomic(path.join(dir, "out.env"), ENCODED);
    expect(readFileSync(path.join(dir, "out.env"), "utf8")).toBe(ENCODED);
    await mkdir(path.join(dir, "a-directory"));
    writeFileSync(path.join(dir, "a-directory", "inside"), "x");
    await expect(writeFileAtomic(path.join(dir, "a-directory"), ENCODED)).rejects.toThrow();
    expect(readdirSync(dir).sort()).toEqual(["a-directory", "out.env"]);
  });

  it("encode-env reports a write failure as a typed error with the file and the code, never the content", async () => {
    const dir = await tempFiles({ ".env": DOTENV });
    const r = await cli(["encode-env", ".env", "--output", "missing-dir/out.env"], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("keyway: Cannot write missing-dir/out.env: ENOENT.\n");
  });
});
