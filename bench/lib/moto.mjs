// Starts moto (the AWS emulator) the way test/servers/index.ts does, for the prefetch case: that
// harness is TypeScript and the bench is plain .mjs. KEYWAY_TEST_MOTO_ENDPOINT uses a running one.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DIR = process.env.KEYWAY_EMULATORS_DIR ?? `${ROOT}.emulators`;
const BINARY = `${DIR}/moto/venv/bin/moto_server`;

/** Why moto cannot be had, or undefined when it can. */
export function motoMissing() {
  if (process.env.KEYWAY_TEST_MOTO_ENDPOINT) return undefined;
  if (existsSync(`${DIR}/moto/.installed`) && existsSync(BINARY)) return undefined;
  return "moto is not installed: run bash scripts/emulators/install.sh moto";
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function ready(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** { endpoint, stop() }: an external moto, or one started here on a free loopback port. */
export async function startMoto() {
  const external = process.env.KEYWAY_TEST_MOTO_ENDPOINT;
  if (external) return { endpoint: external, stop: async () => {} };
  const port = await freePort();
  const child = spawn(BINARY, ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const kill = () => child.exitCode === null && child.kill("SIGKILL");
  process.once("exit", kill);
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (!(await ready(`${endpoint}/moto-api/`))) {
    if (child.exitCode !== null) throw new Error(`moto exited with ${child.exitCode} before it was ready`);
    if (Date.now() > deadline) {
      kill();
      throw new Error("moto was not ready after 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return {
    endpoint,
    stop: async () => {
      process.removeListener("exit", kill);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      kill();
    },
  };
}
