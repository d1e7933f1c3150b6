// CLI issue #20 point 8: `keyway get` skips commander at start-up. The fast path must be the
// same command: for any argv, either the parser declines (commander handles it) or both paths
// give the same exit code, stdout and stderr.
import { spawnSync } from "node:child_process";
import { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseFastGet, runFastGet } from "../src/fast-get.js";
import { type CliIO, runCli } from "../src/index.js";
import { b64, tempFiles } from "./harness.js";

const CONFIG = `
backends:
  env: { type: env }
  team: { type: memory, initial: { "company.team/DB": '{"user":"admin","password":"team-db-pass"}' } }
namespaces:
  - { match: "", backend: env }
  - { match: company.team, backend: team }
`;
const env = { SECRET_API_TOKEN: b64("t0ken-value"), SECRET_BAD: "pass word", SECRET_JSON: b64('{"a":"1"}') };

function capture(cwd: string, ioEnv: CliIO["env"] = env): { io: CliIO; result: () => [string, string] } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (chunks: Buffer[]) =>
    new Writable({
      write(chunk, _enc, done) {
        chunks.push(Buffer.from(chunk));
        done();
      },
    });
  return {
    io: { stdin: Readable.from([]), stdout: sink(out), stderr: sink(err), env: ioEnv, cwd },
    result: () => [Buffer.concat(out).toString(), Buffer.concat(err).toString()],
  };
}

async function both(argv: string[], cwd: string) {
  const parsed = parseFastGet(argv);
  if (!parsed) return undefined;
  const full = capture(cwd);
  const fast = capture(cwd);
  const codes = [await runCli(argv, full.io), await runFastGet(parsed, fast.io)];
  return { full: [codes[0], ...full.result()], fast: [codes[1], ...fast.result()] };
}

describe("the fast get path", () => {
  it("takes plain gets and declines everything else", () => {
    expect(parseFastGet(["get", "K"])).toEqual({ global: {}, key: "K", options: { namespace: "" } });
    expect(parseFastGet(["-c", "k.yaml", "get", "K", "--namespace=a.b", "-t", "acme", "-s", "user"])).toEqual(
      {
        global: { config: "k.yaml" },
        key: "K",
        options: { namespace: "a.b", tenant: "acme", subkey: "user" },
      },
    );
    for (const argv of [
      ["list"],
      ["get"],
      ["get", "K", "--json"],
      ["get", "K", "--help"],
      ["get", "K", "L"],
      ["get", "K", "-n"],
      ["get", "K", "-n", "a", "-n", "b"],
      ["--version"],
      ["get", "K", "--", "x"],
      ["get", "-n", "-x", "K"],
    ])
      expect(parseFastGet(argv), argv.join(" ")).toBeUndefined();
  });

  it("gives exactly what the full program gives, for any argv it takes", async () => {
    const dir = await tempFiles({ "keyway.yaml": CONFIG });
    const word = fc.constantFrom(
      "get",
      "API_TOKEN",
      "DB",
      "BAD",
      "JSON",
      "NOPE",
      "../x",
      "",
      "a.b",
      "company.team",
      "user",
      "a",
      "-",
    );
    const flag = fc.constantFrom(
      "-n",
      "--namespace",
      "-t",
      "--tenant",
      "-s",
      "--subkey",
      "-c",
      "--config",
      "--namespace=company.team",
      "--subkey=password",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(word, flag), { maxLength: 7 }), async (tail) => {
        const r = await both(["get", ...tail], dir);
        if (r) expect(r.fast).toEqual(r.full);
      }),
      { numRuns: 300 },
    );
    // And the cases users hit most, checked to have taken the fast path.
    for (const argv of [
      ["get", "API_TOKEN"],
      ["get", "DB", "-n", "company.team", "-s", "password"],
      ["get", "NOPE", "-n", "company.team"],
      ["get", "BAD"],
      ["get", "../x"],
      ["-c", "missing.yaml", "get", "K"],
    ]) {
      const r = await both(argv, dir);
      expect(r, argv.join(" ")).toBeDefined();
      expect(r?.fast).toEqual(r?.full);
    }
  });
});

// The hot path runs from dist/hot.cjs, a bundle with its own copy of core (src/hot.ts): the built
// bin must answer exactly as the full program does, for what users type most.
describe("the built bin's hot path (dist/hot.cjs)", () => {
  const bin = fileURLToPath(new URL("../bin/keyway.cjs", import.meta.url));
  const hotEnv = {
    PATH: process.env.PATH ?? "",
    SECRET_API_TOKEN: b64("t0ken-value"),
    SECRET_BAD: "pass word",
    SECRET_JSON: b64('{"user":"admin-user","n":1}'),
  };
  it.each([
    [["get", "API_TOKEN"]],
    [["get", "JSON", "-s", "user"]],
    [["get", "JSON", "--subkey=nope"]],
    [["get", "NOPE", "-n", "a.b"]],
    [["get", "BAD"]],
    [["get", "../x"]],
    [["get", "API_TOKEN", "-t", "Not_A_Tenant"]],
  ])("%j", async (argv) => {
    const cwd = await tempFiles({});
    const spawned = spawnSync(process.execPath, [bin, ...argv], { cwd, env: hotEnv, encoding: "utf8" });
    const full = capture(cwd, hotEnv);
    const code = await runCli(argv, full.io);
    expect([spawned.status, spawned.stdout, withoutWarnings(spawned.stderr)]).toEqual([
      code,
      ...full.result(),
    ]);
  });
});

/** Node's own process warnings (the short-secret warning) go to stderr only in a real process. */
const withoutWarnings = (stderr: string) =>
  stderr
    .split("\n")
    .filter((l) => !/^\(node:\d+\)|^\(Use `node --trace-warnings/.test(l))
    .join("\n");
