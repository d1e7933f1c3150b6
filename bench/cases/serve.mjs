// Case: keyway serve's agent. A cached read through `GET /secretsmanager/get` (token check, rate
// limit, router cache, audit line), under autocannon with 32 connections, against, in the same
// run, an OpenBao dev server's own KV read and a bare node:http server returning a fixed body.
// Each server runs in its own process; autocannon runs here. `--duration=N` (seconds) shortens
// a run; --quick uses 3 s.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { fmt } from "../lib/results.mjs";
import { acquireServer } from "../lib/servers.mjs";

const NAME = "serve";
const CHILD = fileURLToPath(new URL("./serve-child.mjs", import.meta.url));
const TOKEN = "bench-token-0123456789abcdef";
const CONNECTIONS = 32;

/** Starts serve-child.mjs; resolves with its port, a cpu() reading (µs used so far) and a stop(). */
async function child(kind, auditFile) {
  const process_ = spawn(process.execPath, [CHILD, kind, auditFile ?? ""], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: process_.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value);
  const { port } = await next();
  return {
    port,
    async cpu() {
      process_.kill("SIGUSR2");
      return (await next()).cpu;
    },
    async stop() {
      process_.kill("SIGTERM");
      await once(process_, "exit");
    },
  };
}

/**
 * One autocannon run: requests per second (mean), p99 latency (ms), every non-2xx or error
 * counted, and (for our own servers) the server's CPU time per request, which the other
 * programs sharing the machine disturb far less than throughput.
 */
async function load(url, headers, duration, server) {
  const cpuBefore = await server?.cpu();
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration });
  const cpuAfter = await server?.cpu();
  return {
    cpuPerRequestUs: server ? (cpuAfter - cpuBefore) / result.requests.total : undefined,
    rps: result.requests.average,
    p99: result.latency.p99,
    p50: result.latency.p50,
    failures: result.non2xx + result.errors + result.timeouts,
    total: result.requests.total,
  };
}

export async function run(results, { check, quick, duration }) {
  const seconds = duration ?? (quick ? 3 : 10);
  let keywayModule;
  try {
    keywayModule = await import("@keyway/server");
  } catch (error) {
    const why = `@keyway/server cannot be imported (build it: npx turbo run build --filter=@keyway/server): ${error.message}`;
    console.error(`\n!!! bench: SKIPPING the serve case: ${why}\n`);
    results.skip(NAME, why);
    if (check) results.goal(NAME, "serve case ran", 0, "==", 1, "");
    return;
  }
  void keywayModule;
  let bao;
  try {
    bao = await acquireServer("openbao");
  } catch (error) {
    const why = `OpenBao cannot be installed or started: ${error.message.split("\n")[0]}`;
    console.error(`\n!!! bench: SKIPPING the serve case: ${why}\n`);
    results.skip(NAME, why);
    if (check) results.goal(NAME, "serve case ran", 0, "==", 1, "");
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "keyway-bench-serve-"));
  const keyway = await child("keyway", path.join(dir, "audit.jsonl"));
  const bare = await child("bare");
  try {
    const baoHeaders = { "X-Vault-Token": bao.extra.rootToken ?? "root" };
    const write = await fetch(`${bao.endpoint}/v1/secret/data/bench/API_TOKEN`, {
      method: "POST",
      headers: { ...baoHeaders, "Content-Type": "application/json" },
      body: JSON.stringify({ data: { value: "bench-secret-value-0123456789" } }),
    });
    if (!write.ok) throw new Error(`OpenBao write answered ${write.status}`);
    const agentUrl = `http://127.0.0.1:${keyway.port}/secretsmanager/get?secretId=company.team/API_TOKEN`;
    const agentHeaders = { "X-Aws-Parameters-Secrets-Token": TOKEN };
    const warm = await fetch(agentUrl, { headers: agentHeaders }); // the first read fills the cache
    if (!warm.ok) throw new Error(`keyway serve answered ${warm.status}`);

    const measured = {
      bare: await load(`http://127.0.0.1:${bare.port}/`, {}, seconds, bare),
      keyway: await load(agentUrl, agentHeaders, seconds, keyway),
      openbao: await load(`${bao.endpoint}/v1/secret/data/bench/API_TOKEN`, baoHeaders, seconds),
    };
    results.raw[NAME] = { seconds, connections: CONNECTIONS, ...measured };
    for (const [name, m] of Object.entries(measured))
      results.row(
        NAME,
        `${name}: requests/s, p50 / p99 ms`,
        `${fmt(m.rps)}, ${fmt(m.p50)} / ${fmt(m.p99)}`,
        `${m.total} requests, ${m.failures} failed (${CONNECTIONS} connections, ${seconds} s)`,
      );
    results.row(
      NAME,
      "server CPU per request: agent / bare",
      `${fmt(measured.keyway.cpuPerRequestUs)} µs / ${fmt(measured.bare.cpuPerRequestUs)} µs = ${fmt(measured.bare.cpuPerRequestUs / measured.keyway.cpuPerRequestUs)}× the bare server's rate`,
      "CPU-bound throughput ratio, less disturbed by other load",
    );
    results.goal(NAME, "agent read: every answer a 200", measured.keyway.failures, "==", 0, "");
    results.goal(
      NAME,
      "agent throughput / OpenBao KV read",
      measured.keyway.rps / measured.openbao.rps,
      ">=",
      5,
    );
    results.goal(
      NAME,
      "agent throughput / bare node:http",
      measured.keyway.rps / measured.bare.rps,
      ">=",
      0.5,
    );
    results.goal(NAME, "agent p99 latency", measured.keyway.p99, "<", 5, "ms");
  } finally {
    await keyway.stop();
    await bare.stop();
    await bao.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
