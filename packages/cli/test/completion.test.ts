// CLI issue #20 point 6: shell completion. The oracle is the shell itself: the script is loaded
// into a real bash, which is asked to complete as it would at a prompt.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { cli } from "./harness.js";

const run = promisify(execFile);

/** What bash offers for the words typed so far (the last one being completed). */
async function complete(script: string, words: string[]): Promise<string[]> {
  const line = words.map((w) => `'${w}'`).join(" ");
  const program = `${script}
COMP_WORDS=(${line}); COMP_CWORD=${words.length - 1}; _keyway
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run("bash", ["--norc", "--noprofile", "-c", program]);
  return stdout.split("\n").filter(Boolean);
}

describe("keyway completion", () => {
  it("bash completes commands, each command's own options, and nothing after a free value", async () => {
    const { code, stdout } = await cli(["completion", "bash"]);
    expect(code).toBe(0);
    expect(await complete(stdout, ["keyway", "re"])).toEqual(["render", "redact"]);
    expect(await complete(stdout, ["keyway", "get", "--"])).toEqual(
      expect.arrayContaining(["--namespace", "--tenant", "--subkey", "--json", "--help"]),
    );
    expect(await complete(stdout, ["keyway", "get", "--"])).not.toContain("--mode");
    expect(await complete(stdout, ["keyway", "-c", "keyway.yaml", "render", "--mo"])).toEqual(["--mode"]);
    expect(await complete(stdout, ["keyway", "get", "-n", ""])).toEqual([]);
    // Hidden options (the old --trim-newline) are not offered.
    expect(await complete(stdout, ["keyway", "put", "--tr"])).toEqual([]);
  });

  it("fish: the shell's own completer offers commands and each command's options", async () => {
    const { stdout } = await cli(["completion", "fish"]);
    const dir = await tempDir("keyway-completion-");
    const file = path.join(dir, "keyway.fish");
    await writeFile(file, stdout);
    const offered = async (line: string) =>
      (await run("fish", ["--no-config", "-c", `source ${file}; complete -C '${line}'`])).stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t")[0]);
    expect(await offered("keyway re")).toEqual(["redact", "render"]);
    expect(await offered("keyway get --")).toEqual(
      expect.arrayContaining(["--namespace", "--tenant", "--subkey", "--json"]),
    );
    expect(await offered("keyway get --")).not.toContain("--mode");
  });

  it("zsh: the script loads cleanly in a bare zsh and registers the same function", async () => {
    const { stdout } = await cli(["completion", "zsh"]);
    const dir = await tempDir("keyway-completion-");
    const file = path.join(dir, "keyway.zsh");
    await writeFile(file, stdout);
    // zsh's compgen emulation leaves prefix matching to zle, so the candidates come unfiltered.
    const result = await run("zsh", [
      "-fc",
      `source ${file}; setopt ksharrays; COMP_WORDS=(keyway get --); COMP_CWORD=2; _keyway; print -rl -- "\${COMPREPLY[@]}"`,
    ]);
    expect(result.stderr).toBe("");
    expect(result.stdout.split("\n")).toEqual(expect.arrayContaining(["--namespace", "--json"]));
  });

  it("an unknown shell exits 3", async () => {
    const r = await cli(["completion", "powershell"]);
    expect(r.code).toBe(3);
  });

  it("help shows examples and the exit codes", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toContain("Examples:");
    expect(r.stdout).toMatch(/Exit codes:[\s\S]*5 backend unavailable/);
  });
});
