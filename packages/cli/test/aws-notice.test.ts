// CLI issue #20 point 6: the AWS SDK's Node 20 notice ("versions published after the first week of
// January 2027 will require node >=22") is hidden in the CLI unless asked for, and the switch that
// hides it is not passed on to a `keyway run` child. Runs the built CLI as a real process.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { closedPort } from "../../../test/setup/closed-port.js";
import { b64, tempFiles } from "./harness.js";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../bin/keyway.cjs", import.meta.url));
const NOTICE = "NodeVersionSupportWarning";
const SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

async function keyway(args: string[], env: Record<string, string>, cwd: string) {
  const base = { PATH: process.env.PATH ?? "", HOME: cwd };
  return run(process.execPath, [bin, ...args], { env: { ...base, ...env }, cwd }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
}

describe.skipIf(process.versions.node.split(".")[0] !== "20")("the AWS SDK's Node 20 notice", async () => {
  const port = await closedPort();
  const dir = await tempFiles({
    "keyway.yaml": `backends:
  aws: { type: aws, region: us-east-1, endpoint: "http://127.0.0.1:${port}", credentials: { type: static, accessKeyId: AKIDEXAMPLE, secretAccessKey: not-a-real-secret } }
namespaces: [{ match: "", backend: aws }]
`,
  });

  it("is hidden by default", async () => {
    const r = await keyway(["get", "X"], {}, dir);
    expect(r.code).toBe(5);
    expect(r.stderr).not.toContain(NOTICE);
  });

  it("shows when asked for with the SDK's own switch", async () => {
    const r = await keyway(["get", "X"], { [SWITCH]: "false" }, dir);
    expect(r.stderr).toContain(NOTICE);
  });

  it("the switch does not leak into a keyway run child", async () => {
    const child = `process.stdout.write(String(process.env.${SWITCH}))`;
    const r = await keyway(
      ["run", "-n", "a", "--env", "T=TOKEN", "--", process.execPath, "-e", child],
      { SECRET_TOKEN: b64("token-value") },
      await tempFiles({}),
    );
    expect(r.stdout).toBe("undefined");
  });
});
