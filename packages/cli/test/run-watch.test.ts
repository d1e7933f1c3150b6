// `keyway run --watch` (issue #15): on a change the secrets are read again and the child is
// restarted (SIGTERM, the grace period, then SIGKILL) or signalled; the exit code is still the
// child's. The router is a memory backend this test rotates (the CLI's own router would read a
// copy of the environment, which nothing can change while it runs); the children are real.
// Nothing asserts on time: each step waits for output to appear.
import diagnostics from "node:diagnostics_channel";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import { createMemoryBackend, createRouter, type Router } from "@keyway/core";
import { type BackendCallEvent, CHANNELS } from "@keyway/core/otel";
import { describe, expect, it, vi } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { runCli } from "../src/index.js";

const state = vi.hoisted(() => ({ router: undefined as unknown }));
vi.mock("../src/context.js", async (original) => ({
  ...(await original<typeof import("../src/context.js")>()),
  withRouter: async <T>(_io: unknown, _options: unknown, body: (router: Router) => Promise<T>) => {
    const router = state.router as Router;
    try {
      return await body(router);
    } finally {
      await router.close();
    }
  },
}));

const REF = { namespace: "app", key: "API" };
const VALUE_1 = "rotating-secret-value-1";
const VALUE_2 = "rotating-secret-value-2";

/**
 * A child that prints the last character of $TOKEN (too short to be masked) and what it is told.
 * Each line is followed by a line of dots: the redacting stream holds back the last bytes of a
 * running child's output (a secret may continue in the next chunk), and the dots push them out.
 */
const CHILD = `
const say = (line) => console.log(line + "\\n" + ".".repeat(64));
const round = process.env.TOKEN.slice(-1);
if (process.env.IGNORE_TERM === "1") process.on("SIGTERM", () => say("ignoring SIGTERM"));
else process.on("SIGTERM", () => { say("stopping " + round); process.exit(0); });
process.on("SIGHUP", () => { say("hup " + round); process.exit(3); });
// "started" is the ready line: printed only once the handlers are in place, so a signal sent
// as soon as the test sees it finds them (trust issue #20 point 9).
say("started " + round + " " + process.env.TOKEN);
if (round === "2") process.exit(7);
setInterval(() => {}, 1000);
`;

/** Runs the CLI in-process over a fresh memory backend, with its output readable while it runs. */
function start(flags: string[], env: Record<string, string> = {}, child = CHILD) {
  const memory = createMemoryBackend({ initial: { "app/API": VALUE_1 } });
  state.router = createRouter({ backends: { m: memory }, rules: [{ match: "", backend: "m" }] });
  const out: string[] = [];
  const err: string[] = [];
  const waiters: Array<() => void> = [];
  // The first probe's answer is the watch's baseline: a rotation before it would not be a change.
  let probes = 0;
  const onBackend = (message: unknown) => {
    if ((message as BackendCallEvent).operation !== "probeVersion") return;
    probes++;
    for (const wake of waiters.splice(0)) wake();
  };
  diagnostics.subscribe(CHANNELS.backend, onBackend);
  const sink = (into: string[]) =>
    new Writable({
      write(chunk, _encoding, done) {
        into.push(String(chunk));
        for (const wake of waiters.splice(0)) wake();
        done();
      },
    });
  let ended = false;
  const code = runCli(
    ["run", "-n", "app", "--env", "TOKEN=API", ...flags, "--", process.execPath, "-e", child],
    {
      stdin: Readable.from([]),
      stdout: sink(out),
      stderr: sink(err),
      env: { PATH: process.env.PATH, ...env },
      cwd: process.cwd(),
    },
  ).finally(() => {
    diagnostics.unsubscribe(CHANNELS.backend, onBackend);
    ended = true;
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    memory,
    code,
    /** What the children printed, without the dots. */
    stdout: () =>
      out
        .join("")
        .split("\n")
        .filter((line) => !/^\.+$/.test(line))
        .join("\n"),
    stderr: () => err.join(""),
    /** Waits for the first probe (the baseline) and for `text`; then a rotation is a change. */
    async ready(text: string) {
      while (probes === 0 && !ended) await new Promise<void>((r) => waiters.push(r));
      await this.until(text);
    },
    /** Waits until `text` was printed (stdout or stderr); throws if the CLI ended without it. */
    async until(text: string) {
      while (!out.join("").includes(text) && !err.join("").includes(text)) {
        if (ended) throw new Error(`the CLI ended without printing '${text}': ${err.join("")}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

describe("keyway run --watch", () => {
  it("restarts the child with the new value on a change; the exit code is the child's that ended on its own", async () => {
    const run = start(["--watch", "--interval", "100"]);
    await run.ready("started 1");
    await run.memory.put?.(REF, VALUE_2);
    expect(await run.code).toBe(7);
    const stdout = run.stdout();
    expect(stdout).toBe("started 1 ******\nstopping 1\nstarted 2 ******\n");
    expect(run.stderr()).toBe("keyway: secret 'API' changed; restarting the child.\n");
  });

  it("kills a child that outlives the grace period, then starts the new one", async () => {
    const run = start(["--watch", "--restart", "--interval", "100", "--grace", "300"], { IGNORE_TERM: "1" });
    await run.ready("started 1");
    await run.memory.put?.(REF, VALUE_2);
    expect(await run.code).toBe(7);
    // The first child ignores SIGTERM (its handler is in place before "started"), so only SIGKILL
    // ends it, and "started 2" comes only after it ended. Whether it got to print its "ignoring"
    // line within the 300 ms grace depends on the machine's load, so that line is optional
    // (trust issue #20 point 9); the first test shows SIGTERM comes first.
    expect(run.stdout()).toMatch(/^started 1 \*{6}\n(ignoring SIGTERM\n)?started 2 \*{6}\n$/);
  });

  it("--signal HUP signals the child instead (its exit code passes through), and masks the new value", async () => {
    const run = start(["--watch", "--signal", "HUP", "--interval", "100"]);
    await run.ready("started 1");
    await run.memory.put?.(REF, VALUE_2);
    expect(await run.code).toBe(3);
    expect(run.stdout()).toBe("started 1 ******\nhup 1\n");
    expect(run.stderr()).toBe("keyway: secret 'API' changed; sending SIGHUP to the child.\n");
  });

  it("a secret that cannot be read again keeps the child running; the next change restarts it", async () => {
    const run = start(["--watch", "--interval", "100"]);
    await run.ready("started 1");
    await run.memory.delete?.(REF);
    await run.until("cannot be read again");
    await run.memory.put?.(REF, VALUE_2);
    expect(await run.code).toBe(7);
    expect(run.stdout()).toBe("started 1 ******\nstopping 1\nstarted 2 ******\n");
    expect(run.stderr()).toContain(
      "keyway: secret 'API' changed but the secrets cannot be read again (NOT_FOUND); the child keeps the values it has.\n",
    );
    for (const value of [VALUE_1, VALUE_2]) expect(run.stderr() + run.stdout()).not.toContain(value);
  });

  it("refuses flag combinations that make no sense, before starting anything", async () => {
    for (const [flags, message] of [
      [["--restart"], "go with --watch"],
      [["--interval", "500"], "go with --watch"],
      [["--watch", "--restart", "--signal", "HUP"], "exclude each other"],
      [["--watch", "--signal", "HUP", "--grace", "10"], "--grace goes with --restart"],
      [["--watch", "--signal", "KILL"], "--signal takes a signal name"],
      [["--watch", "--signal", "NOPE"], "--signal takes a signal name"],
      [["--watch", "--interval", "5"], "--interval takes a number of milliseconds"],
      [["--watch", "--grace", "-1"], "--grace takes"],
    ] as const) {
      const run = start([...flags]);
      expect(await run.code).toBe(1);
      expect(run.stderr()).toContain(message);
      expect(run.stdout()).toBe("");
    }
  });

  it("the restarted child gets what the first one got: no SECRET_* or credential, masked if found elsewhere (trust issue #18 point 1)", async () => {
    const dir = await tempDir("keyway-watch-env-");
    const found = path.join(dir, "found.txt");
    const token = "hvs.CAESIJ1vFm8bQx3Lk2Zp0qWnE7tYr4uIoP9aSdFgHjKl";
    await writeFile(found, token);
    const child = `
const say = (line) => console.log(line + "\\n" + ".".repeat(64));
const round = process.env.TOKEN.slice(-1);
say("started " + round + " " + Object.keys(process.env).sort().join(","));
say("found " + require("node:fs").readFileSync(process.env.FOUND_FILE, "utf8"));
process.on("SIGTERM", () => process.exit(0));
if (round === "2") process.exit(7);
setInterval(() => {}, 1000);
`;
    const env = {
      VAULT_TOKEN: token,
      SECRET_OTHER: Buffer.from("other-team-secret").toString("base64"),
      FOUND_FILE: found,
    };
    const run = start(["--watch", "--interval", "100"], env, child);
    await run.ready("found");
    await run.memory.put?.(REF, VALUE_2);
    expect(await run.code).toBe(7);
    expect(run.stdout()).toBe(
      "started 1 FOUND_FILE,PATH,TOKEN\nfound ******\nstarted 2 FOUND_FILE,PATH,TOKEN\nfound ******\n",
    );
  });
});
