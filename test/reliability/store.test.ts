// Keyway's own store (@keyway/backend-store) under faults, on both engines where they apply:
// a writer killed with SIGKILL in the middle of puts leaves every secret at a whole version;
// two processes doing compare-and-set updates on one key lose none; PostgreSQL behind
// Toxiproxy: an outage is unavailable, never not-found, and the cache's stale rules hold; a wrong
// key is a typed error naming the key's id.
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import {
  createStoreBackend,
  generateKeyText,
  initializeStore,
  parseKeyText,
  type StoreBackendOptions,
} from "@keyway/backend-store";
import {
  BackendUnavailableError,
  ConfigurationError,
  createResolver,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../setup/temp-dirs.js";
import { server, toxiproxy } from "./support/faults.js";
import { expectNoLeak } from "./support/leaks.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);

const register = fileURLToPath(new URL("./child/register.mjs", import.meta.url));
const worker = fileURLToPath(new URL("./child/store-worker.ts", import.meta.url));
const ENGINES = ["postgres", "sqlite"] as const;
const ref = (key: string): SecretRef => ({ namespace: "reliability.store", key });
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
});

/** A fresh database (PostgreSQL) or folder (embedded) holding a new store, and options to open it. */
async function newStore(engine: "postgres" | "sqlite", via?: string): Promise<StoreBackendOptions> {
  const keyText = generateKeyText();
  let location: { url?: string; path?: string };
  if (engine === "postgres") {
    const admin = server("postgres").extra.url as string;
    const name = `keyway_rel_${randomBytes(5).toString("hex")}`;
    const client = new pg.Client(admin);
    await client.connect();
    await client.query(`CREATE DATABASE ${name}`);
    await client.end();
    location = { url: admin.replace(/\/postgres$/, `/${name}`) };
  } else {
    location = { path: `${await tempDir("keyway-rel-store-")}/store` };
  }
  await initializeStore(location, parseKeyText(keyText, "KEYWAY_STORE_KEY"));
  const url = via && location.url ? location.url.replace(/127\.0\.0\.1:\d+/, via) : location.url;
  return { ...location, url, env: { KEYWAY_STORE_KEY: keyText } };
}

function startWorker(job: Record<string, unknown>): {
  child: ChildProcess;
  lines: AsyncIterable<string>;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ["--import", register, worker, JSON.stringify(job)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  async function* lines(): AsyncIterable<string> {
    let buffer = "";
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      buffer += chunk.toString("utf8");
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        yield buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
      }
    }
  }
  return { child, lines: lines(), stderr: () => stderr };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once("exit", () => resolve()));

/** The worker's self-checking value (child/store-worker.ts): whole, or not. */
function parseSelfChecking(key: string, value: string): number | undefined {
  const cut = value.lastIndexOf(":");
  const body = value.slice(0, cut);
  if (createHash("sha256").update(body).digest("hex") !== value.slice(cut + 1)) return undefined;
  const [k, n] = body.split(":");
  return k === key ? Number(n) : undefined;
}

describe("the store under faults", () => {
  for (const engine of ENGINES) {
    it(`${engine}: a writer killed with SIGKILL mid-put leaves each secret at its previous or new version, never torn`, async () => {
      const options = await newStore(engine);
      const keys = ["K0", "K1", "K2", "K3"];
      for (let round = 0; round < 3; round++) {
        const { child, lines, stderr } = startWorker({ mode: "writer", options, keys });
        const committed = new Map<string, number>();
        let commits = 0;
        const target = 20 + round * 7;
        // Every line the worker wrote before it died is read, after the kill too: a put it reported
        // while this loop was behind is committed, and only the put in flight may be unreported.
        for await (const line of lines) {
          const [word, key, n] = line.split(" ");
          if (word !== "committed") continue;
          committed.set(key as string, Number(n));
          if (++commits === target) child.kill("SIGKILL");
        }
        await exited(child);
        expect(child.signalCode, stderr()).toBe("SIGKILL");
        count("storeWritersKilled");
        const backend = createStoreBackend(options);
        try {
          for (const key of keys) {
            const value = (await backend.get(ref(key))).reveal();
            const n = parseSelfChecking(key, value);
            const last = committed.get(key) ?? 0;
            // Whole, and at the last committed put or the one in flight when the kill came.
            const whole = n !== undefined && n >= last && n <= last + 1;
            if (!whole) count("storeTornSecrets");
            expect(whole, `${key}: read n=${n}, last committed ${last}`).toBe(true);
            count("resolvesChecked");
          }
        } finally {
          await backend.close();
        }
      }
    });

    it(`${engine}: two processes doing 500 compare-and-set updates each on one key lose none`, async () => {
      const options = await newStore(engine);
      const seed = createStoreBackend(options);
      await seed.put(ref("COUNTER"), "0");
      await seed.close();
      const workers = [0, 1].map(() => startWorker({ mode: "cas", options, keys: ["COUNTER"], count: 500 }));
      const reports = await Promise.all(
        workers.map(async ({ child, lines, stderr }) => {
          let report: { done: number; conflicts: number } | undefined;
          for await (const line of lines) if (line.startsWith("{")) report = JSON.parse(line);
          await exited(child);
          expect(child.exitCode, stderr()).toBe(0);
          return report;
        }),
      );
      expect(reports.map((r) => r?.done)).toEqual([500, 500]);
      const backend = createStoreBackend(options);
      try {
        const final = Number((await backend.get(ref("COUNTER"))).reveal());
        count("storeCasUpdates", 1000);
        if (final !== 1000) count("storeCasLost", 1000 - final);
        expect(final).toBe(1000);
      } finally {
        await backend.close();
      }
    });

    it(`${engine}: a wrong key is a ConfigurationError naming the store's key id, never a value or the key`, async () => {
      const options = await newStore(engine);
      const writer = createStoreBackend(options);
      await writer.put(ref("GUARDED"), "guarded-value-42");
      await writer.close();
      const storeKeyId = parseKeyText(options.env?.KEYWAY_STORE_KEY as string, "x").id;
      const wrongText = generateKeyText();
      const reader = createStoreBackend({ ...options, env: { KEYWAY_STORE_KEY: wrongText } });
      try {
        const error = await reader.get(ref("GUARDED")).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toContain(storeKeyId);
        count("leakChecks");
        expectNoLeak(
          error,
          ["guarded-value-42", wrongText, options.env?.KEYWAY_STORE_KEY as string],
          "wrong key",
        );
      } finally {
        await reader.close();
      }
    });
  }

  it("postgres behind Toxiproxy: an outage is unavailable, never not-found, and stale-if-error holds", async () => {
    const proxy = await toxiproxy().createProxy({
      name: `rel-postgres-${randomBytes(5).toString("hex")}`,
      upstream: `127.0.0.1:${server("postgres").port}`,
    });
    try {
      const options = await newStore("postgres", `127.0.0.1:${proxy.port}`);
      const backend = createStoreBackend({ ...options, requestTimeoutMs: 2000, poolSize: 2 });
      await backend.put(ref("CACHED"), "cached-value");
      let now = 1_000_000;
      const resolver = createResolver({
        backend,
        timeoutMs: 3000,
        retry: { attempts: 1 },
        breaker: { threshold: 0 },
        cache: { ttlMs: 1000, negativeTtlMs: 0, staleIfErrorMs: 5000, jitter: 0, clock: { now: () => now } },
      });
      expect((await resolver.resolve(ref("CACHED"))).reveal()).toBe("cached-value");
      await expect(resolver.resolve(ref("ABSENT"))).rejects.toBeInstanceOf(SecretNotFoundError);
      await proxy.disable();
      count("faultsInjected");
      // Direct calls: every one is unavailable, the missing key too (not-found would be a lie).
      for (const call of [
        () => backend.get(ref("CACHED")),
        () => backend.get(ref("ABSENT")),
        () => backend.probeVersion(ref("ABSENT")),
        () => backend.list("reliability.store"),
        () => backend.put(ref("CACHED"), "during-outage"),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BackendUnavailableError);
        count("resolvesChecked");
      }
      // Through the cache: past the TTL the value is served stale, marked so; past the bound, unavailable.
      now += 1500;
      const stale = await resolver.resolve(ref("CACHED"));
      expect([stale.reveal(), stale.stale]).toEqual(["cached-value", true]);
      await expect(resolver.resolve(ref("ABSENT"))).rejects.toBeInstanceOf(BackendUnavailableError);
      now += 10_000;
      await expect(resolver.resolve(ref("CACHED"))).rejects.toBeInstanceOf(BackendUnavailableError);
      count("resolvesChecked", 3);
      await proxy.enable();
      expect((await backend.get(ref("CACHED"))).reveal()).toBe("cached-value");
      await resolver.close?.();
      await backend.close();
    } finally {
      await proxy.delete().catch(() => undefined);
    }
  });
});
