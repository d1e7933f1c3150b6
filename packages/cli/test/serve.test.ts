/** `keyway serve` in-process: token sources, the 0600 token file, the config's router, the audit file, shutdown. */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import {
  type DefaultBackend,
  embeddedStoreBackend,
  isLoopback,
  type ServeOptions,
  serveWith,
} from "../src/commands/serve.js";
import { runCli } from "../src/index.js";
import { tempFiles } from "./harness.js";

const CONFIG = `backends:
  mem: { type: memory, initial: { "company.team/API_TOKEN": "t0ken-value" } }
namespaces:
  - match: company
    backend: mem
`;

/** Starts serve; resolves with its URL once it says it listens, and a stop() that waits for the shutdown. */
async function startServe(
  env: Record<string, string>,
  options: Partial<ServeOptions> = {},
  files: Record<string, string> = { "keyway.yaml": CONFIG },
  defaultBackend: DefaultBackend = async () => {
    throw new Error("not used");
  },
  cwd?: string,
) {
  cwd ??= await tempFiles(files);
  let stderr = "";
  let onListening: (url: string) => void = () => {};
  const listening = new Promise<string>((resolve) => {
    onListening = resolve;
  });
  const stderrStream = new Writable({
    write(chunk, _enc, done) {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+) /.exec(stderr);
      if (match) onListening(match[1] as string);
      done();
    },
  });
  const controller = new AbortController();
  const io = {
    stdin: Readable.from([]),
    stdout: new Writable({ write: (_c, _e, d) => d() }),
    stderr: stderrStream,
    env,
    cwd,
  };
  const done = serveWith(
    io,
    {},
    { host: "127.0.0.1", port: "0", ...options },
    { defaultBackend, stop: controller.signal },
  );
  const url = await Promise.race([listening, done.then(() => Promise.reject(new Error(stderr)))]);
  return {
    url,
    cwd,
    stderr: () => stderr,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

describe("keyway serve", () => {
  it("serves the config's router with KEYWAY_SERVE_TOKEN, audits to the file, and shuts down cleanly", async () => {
    const token = "env-token-0123456789abcdef";
    const serve = await startServe({ KEYWAY_SERVE_TOKEN: token }, { auditFile: "audit.jsonl" });
    const response = await fetch(`${serve.url}/secretsmanager/get?secretId=company.team/API_TOKEN`, {
      headers: { "X-Aws-Parameters-Secrets-Token": token },
    });
    expect(((await response.json()) as { SecretString: string }).SecretString).toBe("t0ken-value");
    expect((await fetch(`${serve.url}/ping`)).status).toBe(200);
    await serve.stop();
    expect(serve.stderr()).toContain("shutting down");
    expect(serve.stderr()).not.toContain(token);
    const lines = (await readFile(path.join(serve.cwd, "audit.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      face: "aws-agent",
      namespace: "company.team",
      key: "API_TOKEN",
      status: 200,
    });
    expect((await stat(path.join(serve.cwd, "audit.jsonl"))).mode & 0o777).toBe(0o600);
    await expect(fetch(`${serve.url}/ping`)).rejects.toThrow();
  });

  it("generates a token into a 0600 file whose path it prints, and reads it back next time", async () => {
    const serve = await startServe({}, { tokenFile: "secret/token" });
    const file = path.join(serve.cwd, "secret/token");
    expect(serve.stderr()).toContain(`generated an access token in ${file} (mode 0600)`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const token = (await readFile(file, "utf8")).trim();
    expect(serve.stderr()).not.toContain(token);
    const ok = await fetch(`${serve.url}/api/v1/namespaces/company.team/secrets`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(ok.status).toBe(200);
    await serve.stop();
  });

  it("without a config, serves the embedded store: created with a 0600 key file, kept across restarts", async () => {
    const token = "env-token-0123456789abcdef";
    const value = "pä$$wörd\n'\"秘密 {{ secret('X') }}";
    const first = await startServe({ KEYWAY_SERVE_TOKEN: token }, {}, {}, embeddedStoreBackend);
    expect(first.stderr()).toContain("serving the embedded store in .keyway/store");
    expect((await stat(path.join(first.cwd, ".keyway/store.key"))).mode & 0o777).toBe(0o600);
    const put = await fetch(`${first.url}/api/v1/namespaces/company.team/secrets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ key: "DB_PASSWORD", value, description: "the database" }),
    });
    expect(put.status).toBeLessThan(300);
    // A create (If-None-Match: *) of a key the store holds: the store's compare-and-set refuses it.
    const create = await fetch(`${first.url}/api/v1/namespaces/company.team/secrets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "if-none-match": "*" },
      body: JSON.stringify({ key: "DB_PASSWORD", value: "overwritten" }),
    });
    expect(create.status).toBe(409);
    await first.stop();
    expect(first.stderr()).not.toContain(value);

    const again = await startServe({ KEYWAY_SERVE_TOKEN: token }, {}, {}, embeddedStoreBackend, first.cwd);
    expect(again.stderr()).not.toContain("created the store");
    const read = await fetch(`${again.url}/secretsmanager/get?secretId=company.team.etl/DB_PASSWORD`, {
      headers: { "X-Aws-Parameters-Secrets-Token": token },
    });
    expect(((await read.json()) as { SecretString: string }).SecretString).toBe(value);
    await again.stop();
  });

  it("never gives an existing embedded store a new key: a wrong KEYWAY_STORE_KEY is a typed error naming the variable", async () => {
    const token = "env-token-0123456789abcdef";
    const first = await startServe({ KEYWAY_SERVE_TOKEN: token }, {}, {}, embeddedStoreBackend);
    await first.stop();
    const wrongKey = Buffer.alloc(32, 7).toString("base64");
    const failed = await startServe(
      { KEYWAY_SERVE_TOKEN: token, KEYWAY_STORE_KEY: wrongKey },
      {},
      {},
      embeddedStoreBackend,
      first.cwd,
    ).then(
      (serve) => serve.stop().then(() => "served"),
      (error: Error) => error.message,
    );
    expect(failed).toContain("KEYWAY_STORE_KEY");
    expect(failed).not.toContain(wrongKey);
  });

  it("without a config or a store, will not create one under KEYWAY_STORE_KEY (exit 3, nothing written)", async () => {
    const cwd = await tempFiles({});
    const err: Buffer[] = [];
    const code = await runCli(["serve", "--port", "0"], {
      stdin: Readable.from([]),
      stdout: new Writable({ write: (_c, _e, d) => d() }),
      stderr: new Writable({
        write(chunk, _e, d) {
          err.push(Buffer.from(chunk));
          d();
        },
      }),
      env: {
        KEYWAY_SERVE_TOKEN: "env-token-0123456789abcdef",
        KEYWAY_STORE_KEY: Buffer.alloc(32, 1).toString("base64"),
      },
      cwd,
    });
    expect(code).toBe(3);
    expect(Buffer.concat(err).toString()).toContain("keyway store init");
    await expect(stat(path.join(cwd, ".keyway"))).rejects.toThrow();
  });

  it("refuses a short token and a bad port", async () => {
    await expect(startServe({ KEYWAY_SERVE_TOKEN: "short" })).rejects.toThrow(/at least 16 characters/);
    await expect(
      startServe({ KEYWAY_SERVE_TOKEN: "env-token-0123456789abcdef" }, { port: "99999" }),
    ).rejects.toThrow(/--port/);
  });

  it("knows loopback addresses (anything else gets the loud warning)", () => {
    expect(["127.0.0.1", "127.1.2.3", "::1", "localhost"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "::", "192.168.1.2", "example.com"].some(isLoopback)).toBe(false);
  });
});
