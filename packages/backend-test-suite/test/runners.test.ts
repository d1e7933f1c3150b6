// The suite needs no Vitest: run under Node's own `node:test` (fixtures/node-test.mjs, with an
// `expect` over node:assert) in a plain child process, it passes the memory backend and reports
// every case. Vitest itself runs it in packages/core/test/memory-contract.test.ts.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";

const run = promisify(execFile);
const file = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));

it("runs the whole contract under node:test, without Vitest", async () => {
  // The hooks let a plain `node` run the TypeScript sources, as the reliability children do.
  const register = file("../../../test/reliability/child/register.mjs");
  const { stdout } = await run(
    process.execPath,
    ["--import", register, "--test", "--test-reporter=tap", file("./fixtures/node-test.mjs")],
    { cwd: file("../../../") },
  );
  const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, "m").exec(stdout)?.[1]);
  expect(count("fail")).toBe(0);
  expect(count("pass")).toBeGreaterThanOrEqual(20);
  expect(stdout).toContain("ok 1 - backend contract: memory under node:test");
});
