// Case: Keyway's own store (@keyway/backend-store, issue 21). On one PostgreSQL server (a
// throwaway cluster, started as the tests start it) in one run, interleaved round by round:
// - keyway put: the backend's put (reference and value checks, a fresh AES-256-GCM data key
//   wrapped by the key-encryption key, the value encrypted under it, bound to its name and
//   version) sent as one named prepared statement: upsert of the secret's row, the new version's
//   row, pruning past keepVersions and a NOTIFY (plus one sequence round trip per 32 puts);
// - raw pg upsert: `INSERT … ON CONFLICT (key) DO UPDATE` of the plaintext into a one-table
//   `(key text PRIMARY KEY, value text)`, a named prepared statement;
// - keyway get: one named prepared statement (the secret's row joined to its current version's),
//   the data key unwrapped (or taken from the data-key cache) and the value decrypted, a SecretValue;
// - raw pg select: `SELECT value … WHERE key = $1`, a named prepared statement.
// Both sides: `pg` 8.23.1, a pool of one connection to the same database, the same 34-byte
// value, warmed up, cycling over the same 50 keys for puts; no TLS, default durability.
// the embedded engine against the server; a change event pushed (subscribe) against polled; and
// `keyway get` from an embedded store against the env backend's.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { compare, median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { acquireServer } from "../lib/servers.mjs";

const NAME = "store";
const BIN = fileURLToPath(new URL("../../packages/cli/bin/keyway.cjs", import.meta.url));
const VALUE = "store-bench-value-0123456789abcdef";
const ref = (key) => ({ namespace: "bench.store", key });

export async function run(results, { quick }) {
  let store;
  try {
    store = await import("@keyway/backend-store");
  } catch (error) {
    throw new Error(`${NAME}: @keyway/backend-store is not built (npm run build): ${error.message}`);
  }
  const { default: pg } = await import("pg");
  const server = await acquireServer("postgres");
  const dir = mkdtempSync(path.join(os.tmpdir(), "keyway-bench-store-"));
  const opened = [];
  try {
    const admin = new pg.Client(server.extra.url);
    await admin.connect();
    await admin.query("CREATE DATABASE keyway_bench");
    await admin.end();
    const url = server.extra.url.replace(/\/postgres$/, "/keyway_bench");
    const keyText = store.generateKeyText();
    const key = store.parseKeyText(keyText, "KEYWAY_STORE_KEY");
    const embeddedPath = path.join(dir, "store");
    await store.initializeStore({ url }, key);
    await store.initializeStore({ path: embeddedPath }, key);
    const env = { KEYWAY_STORE_KEY: keyText };
    const server1 = store.createStoreBackend({ url, env, poolSize: 1 });
    const embedded = store.createStoreBackend({ path: embeddedPath, env });
    opened.push(server1, embedded);
    const raw = new pg.Pool({ connectionString: url, max: 1 });
    await raw.query("CREATE TABLE raw_secrets (key text PRIMARY KEY, value text NOT NULL)");
    const rawPut = (k, v) =>
      raw.query({
        name: "raw_put",
        text: "INSERT INTO raw_secrets (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        values: [k, v],
      });
    const rawGet = (k) =>
      raw.query({ name: "raw_get", text: "SELECT value FROM raw_secrets WHERE key = $1", values: [k] });
    for (const backend of [server1, embedded]) await backend.put(ref("READ"), VALUE);
    await rawPut("READ", VALUE);
    let n = 0;
    const options = { rounds: quick ? 3 : 7, time: 0, iterations: quick ? 60 : 200, warmup: 20 };
    const timed = await compare(
      {
        "keyway put (postgres)": () => server1.put(ref(`W${n++ % 50}`), VALUE),
        "raw pg upsert": () => rawPut(`W${n++ % 50}`, VALUE),
        "keyway get (postgres)": async () => {
          if ((await server1.get(ref("READ"))).reveal() !== VALUE) throw new Error("wrong value");
        },
        "raw pg select": async () => {
          if ((await rawGet("READ")).rows[0].value !== VALUE) throw new Error("wrong value");
        },
        "keyway put (embedded)": () => embedded.put(ref(`W${n++ % 50}`), VALUE),
        "keyway get (embedded)": async () => {
          if ((await embedded.get(ref("READ"))).reveal() !== VALUE) throw new Error("wrong value");
        },
      },
      options,
    );
    await raw.end();
    const us = (name) => `${fmt(timed.ns[name] / 1000)} µs`;
    const putRatio = timed.ratio("keyway put (postgres)", "raw pg upsert");
    const getRatio = timed.ratio("keyway get (postgres)", "raw pg select");
    results.row(
      NAME,
      "put through the store (postgres) vs a raw pg upsert",
      `${fmt(putRatio)}×`,
      `${us("keyway put (postgres)")} vs ${us("raw pg upsert")}`,
    );
    results.row(
      NAME,
      "get through the store (postgres) vs a raw pg select",
      `${fmt(getRatio)}×`,
      `${us("keyway get (postgres)")} vs ${us("raw pg select")}`,
    );
    results.row(
      NAME,
      "embedded put vs postgres put",
      `${fmt(timed.ratio("keyway put (embedded)", "keyway put (postgres)"))}×`,
      `${us("keyway put (embedded)")}`,
    );
    results.row(
      NAME,
      "embedded get vs postgres get",
      `${fmt(timed.ratio("keyway get (embedded)", "keyway get (postgres)"))}×`,
      `${us("keyway get (embedded)")}`,
    );
    results.goal(NAME, "store get ≤ 1.3× raw pg select (incl. decryption)", getRatio, "<=", 1.3);
    results.goal(NAME, "store put ≤ 1.3× raw pg upsert (incl. encryption)", putRatio, "<=", 1.3);

    // Change events: from the start of a put to the listener hearing it, pushed (subscribe) and
    // polled (probeVersion every 100 ms, as router.watch polls a backend without subscribe).
    const events = quick ? 10 : 30;
    const latency = {};
    for (const [label, backend] of [
      ["postgres", server1],
      ["embedded", embedded],
    ]) {
      const pushed = [];
      let heard;
      const subscription = await backend.subscribe({
        change: (c) => c.key === "EVENT" && heard?.(),
        lost: () => {},
      });
      for (let i = 0; i < events; i++) {
        const arrived = new Promise((resolve) => {
          heard = resolve;
        });
        const t = performance.now();
        await backend.put(ref("EVENT"), `${VALUE}-${i}`);
        await arrived;
        pushed.push(performance.now() - t);
      }
      await subscription.close();
      latency[`pushed ${label}`] = median(pushed);
    }
    const polled = [];
    for (let i = 0; i < Math.min(events, 10); i++) {
      let last = await server1.probeVersion(ref("EVENT"));
      let resolveSeen;
      const seen = new Promise((resolve) => {
        resolveSeen = resolve;
      });
      const timer = setInterval(async () => {
        const version = await server1.probeVersion(ref("EVENT"));
        if (version !== last) {
          last = version;
          resolveSeen(performance.now());
        }
      }, 100);
      // A change lands at a random point of the polling cycle, as it does in life.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 100));
      const t = performance.now();
      await server1.put(ref("EVENT"), `${VALUE}-polled-${i}`);
      polled.push((await seen) - t);
      clearInterval(timer);
    }
    latency["polled postgres (100 ms interval)"] = median(polled);
    for (const [label, ms] of Object.entries(latency))
      results.row(NAME, `change event latency, ${label}`, `${fmt(ms)} ms`, "median, put start to listener");
    results.goal(
      NAME,
      "pushed change event (postgres) faster than a 100 ms poll",
      latency["pushed postgres"],
      "<",
      latency["polled postgres (100 ms interval)"],
      " ms",
    );

    // `keyway get` from an embedded store (config file, store engine loaded) vs the env backend.
    let cli;
    if (existsSync(path.join(path.dirname(BIN), "../dist/main.js"))) {
      const cwd = path.join(dir, "cli");
      execFileSync("mkdir", ["-p", cwd]);
      writeFileSync(
        path.join(cwd, "keyway.yaml"),
        `backends:\n  store: { type: store, path: "${embeddedPath}" }\nnamespaces:\n  - { match: "", backend: store }\n`,
      );
      const envCwd = path.join(dir, "cli-env");
      execFileSync("mkdir", ["-p", envCwd]);
      // The env backend from a keyway.yaml: the same config-loading path as the store's.
      const envConfigCwd = path.join(dir, "cli-env-config");
      execFileSync("mkdir", ["-p", envConfigCwd]);
      writeFileSync(
        path.join(envConfigCwd, "keyway.yaml"),
        `backends:\n  env: { type: env }\nnamespaces:\n  - { match: "", backend: env }\n`,
      );
      const { KEYWAY_CONFIG: _c, ...base } = process.env;
      const spawnMs = (c, extra) => {
        const t = performance.now();
        const out = execFileSync(process.execPath, [BIN, "get", "READ", "-n", "bench.store"], {
          cwd: c,
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          env: { ...base, NODE_OPTIONS: "", ...extra },
        });
        if (out !== VALUE) throw new Error(`${NAME}: keyway get printed the wrong value`);
        return performance.now() - t;
      };
      const secretEnv = { SECRET_READ: Buffer.from(VALUE).toString("base64") };
      const sides = {
        env: () => spawnMs(envCwd, secretEnv),
        envConfig: () => spawnMs(envConfigCwd, secretEnv),
        store: () => spawnMs(cwd, env),
      };
      const times = { env: [], envConfig: [], store: [] };
      for (let i = 0; i < 2; i++) for (const side of Object.values(sides)) side();
      for (let r = 0; r < (quick ? 8 : 20); r++) {
        const names = Object.keys(sides);
        for (const name of r % 2 ? names : names.reverse()) times[name].push(sides[name]());
      }
      cli = { env: median(times.env), envConfig: median(times.envConfig), store: median(times.store) };
      results.row(
        NAME,
        "keyway get from an embedded store vs the env backend in a keyway.yaml",
        `${fmt(cli.store / cli.envConfig)}×`,
        `${fmt(cli.store)} ms vs ${fmt(cli.envConfig)} ms`,
      );
      results.row(
        NAME,
        "keyway get from an embedded store vs the env backend with no config file (its hot path)",
        `${fmt(cli.store / cli.env)}×`,
        `${fmt(cli.store)} ms vs ${fmt(cli.env)} ms`,
      );
    }
    results.raw[NAME] = { ns: timed.ns, putRatio, getRatio, latency, polled, cli };
  } finally {
    for (const backend of opened) await backend.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
