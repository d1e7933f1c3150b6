// Trust issue #20 point 1: `keyway run` and `keyway redact` show output while the child (or
// stdin) is still open, not when more arrives or at the exit. The CLI runs in-process; the child
// is real. Nothing asserts on time: each test waits for the output to appear, and would time out
// if it stalled.
import { once } from "node:events";
import net from "node:net";
import { PassThrough, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { runCli } from "../src/index.js";
import { b64 } from "./harness.js";

const TOKEN = "ghp_4fT9kQ2mZx7Lr1Vb8NcW3yHs6Ju0Pa5DeGiO";
// Long forms made the old fixed holdback large (the hex of the JSON value is 142 characters).
const ENV = {
  SECRET_TOKEN: b64(TOKEN),
  SECRET_GCP: b64(JSON.stringify({ client_email: "etl@proj.iam.example", private_key_id: "9f8e7d6c5b4a" })),
};

/** A Writable that keeps what it was given and resolves `until(text)` once it contains `text`. */
function capture() {
  let text = "";
  const waiters: Array<{ expected: string; resolve: (text: string) => void }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString("utf8");
      for (const w of waiters.splice(0)) {
        if (text.includes(w.expected)) w.resolve(text);
        else waiters.push(w);
      }
      done();
    },
  });
  const until = (expected: string) =>
    new Promise<string>((resolve) => {
      if (text.includes(expected)) resolve(text);
      else waiters.push({ expected, resolve });
    });
  return { stream, until };
}

describe("trust issue #20 point 1: live output through the CLI", () => {
  it("keyway run shows a child's line while the child waits, before it writes more or exits", async () => {
    // The child prints, then waits until the test closes its connection: it is alive meanwhile.
    const server = net.createServer();
    const connected = once(server, "connection") as Promise<[net.Socket]>;
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as net.AddressInfo;
    const child = `process.stdout.write("token=" + process.env.TOKEN + "\\nserver ready on :8080\\n");
require("node:net").connect(${port}, "127.0.0.1").on("close", () => process.exit(0));`;
    const out = capture();
    let finished = false;
    const code = runCli(["run", "-n", "app", "--env", "TOKEN=TOKEN", "--", process.execPath, "-e", child], {
      stdin: new PassThrough(),
      stdout: out.stream,
      stderr: capture().stream,
      env: ENV,
      cwd: await tempDir("keyway-cli-"),
    }).finally(() => {
      finished = true;
    });
    const [socket] = await connected;
    expect(await out.until("server ready on :8080\n")).toBe("token=******\nserver ready on :8080\n");
    expect(finished).toBe(false);
    socket.destroy();
    expect(await code).toBe(0);
    server.close();
  });

  it("keyway redact shows a prompt without a newline while stdin stays open", async () => {
    const stdin = new PassThrough();
    const out = capture();
    const code = runCli(["redact", "-n", "app"], {
      stdin,
      stdout: out.stream,
      stderr: capture().stream,
      env: ENV,
      cwd: await tempDir("keyway-cli-"),
    });
    stdin.write(`login ok, token ${TOKEN}\nPassword: `);
    expect(await out.until("Password: ")).toBe("login ok, token ******\nPassword: ");
    stdin.end("hunter2\n");
    expect(await code).toBe(0);
    expect(await out.until("hunter2\n")).toBe("login ok, token ******\nPassword: hunter2\n");
  });
});
