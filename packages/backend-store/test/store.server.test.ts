// What is specific to the store, on both engines: keys and their errors, what the encryption
// binds, versions kept, tenants, prefixes, read-only mode, binary values, init's refusals, and
// the config loader finding `type: store`.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { printedForms } from "@keyway/backend-test-suite";
import {
  ConfigurationError,
  createMemoryBackend,
  createRouter,
  InvalidSecretValueError,
  ReadOnlyError,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core";
import { loadRouter } from "@keyway/core/config";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { type createStoreBackend, initializeStore, rotateStoreKey, type StoreBackend } from "../src/index.js";
import { ENGINES, newKey, newLocation, newStore, openStore, server } from "./helpers.js";

const ref = (key: string, namespace = "company.team", tenant?: string): SecretRef =>
  tenant === undefined ? { namespace, key } : { namespace, key, tenant };
const opened: StoreBackend[] = [];
const open = (options: Parameters<typeof createStoreBackend>[0]) => {
  const backend = openStore(options);
  opened.push(backend);
  return backend;
};
afterAll(async () => {
  await Promise.all(opened.map((b) => b.close()));
});

/** Runs raw SQL on a store's database (to move rows around as an attacker with the files would). */
async function sql(
  options: { url?: string | undefined; path?: string | undefined },
  text: string,
): Promise<void> {
  if (options.url) {
    const client = new pg.Client(options.url);
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  } else {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(options.path as string, "store.db"));
    try {
      db.exec(text);
    } finally {
      db.close();
    }
  }
}

describe.skipIf(!server)("store backend specifics", () => {
  for (const engine of ENGINES) {
    describe(engine, () => {
      it("a missing, short or malformed key is a ConfigurationError naming where, never the key", async () => {
        const { options, keyText } = await newStore(engine);
        const cases: Array<[Record<string, string>, RegExp]> = [
          [{}, /KEYWAY_STORE_KEY/],
          [{ KEYWAY_STORE_KEY: keyText.slice(0, 20) }, /KEYWAY_STORE_KEY.*base64 of 32 bytes/],
          [{ KEYWAY_STORE_KEY: `${keyText}!!` }, /KEYWAY_STORE_KEY/],
        ];
        for (const [env, message] of cases) {
          const error = await open({ ...options, env })
            .get(ref("ANY"))
            .catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ConfigurationError);
          expect((error as Error).message).toMatch(message);
          expect(printedForms(error)).not.toContain(keyText.slice(0, 20));
        }
        const keyFile = path.join(await tempDir("keyway-key-"), "missing.key");
        const error = await open({ ...options, keyFile })
          .get(ref("ANY"))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toContain(keyFile);
      });

      it("another key is a ConfigurationError naming both key ids; the key file works like the variable", async () => {
        const { options, keyText, key } = await newStore(engine);
        await open(options).put(ref("DB_PASSWORD"), "hunter2-☃");
        const other = newKey();
        const error = await open({ ...options, env: { KEYWAY_STORE_KEY: other.text } })
          .get(ref("DB_PASSWORD"))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toContain(key.id);
        expect((error as Error).message).toContain(other.key.id);
        expect(printedForms(error)).not.toContain("hunter2");
        expect(printedForms(error)).not.toContain(other.text);
        const keyFile = path.join(await tempDir("keyway-key-"), "store.key");
        writeFileSync(keyFile, `${keyText}\n`, { mode: 0o600 });
        const viaFile = open({ ...options, env: {}, keyFile });
        expect((await viaFile.get(ref("DB_PASSWORD"))).reveal()).toBe("hunter2-☃");
      });

      it("a row copied to another name or another store fails to decrypt, with no data", async () => {
        const { options, keyText } = await newStore(engine);
        const backend = open(options);
        await backend.put(ref("SOURCE"), "copied-secret-value");
        await sql(
          options,
          `INSERT INTO keyway_secrets (tenant, namespace, key, current_version, updated_at)
             SELECT tenant, namespace, 'STOLEN', current_version, updated_at FROM keyway_secrets WHERE key = 'SOURCE';
           INSERT INTO keyway_versions (tenant, namespace, key, version, kek_id, wrapped_key, ciphertext, is_binary, created_at)
             SELECT tenant, namespace, 'STOLEN', version, kek_id, wrapped_key, ciphertext, is_binary, created_at
             FROM keyway_versions WHERE key = 'SOURCE';`,
        );
        const moved = await backend.get(ref("STOLEN")).catch((e: unknown) => e);
        expect(moved).toBeInstanceOf(InvalidSecretValueError);
        expect(printedForms(moved)).not.toContain("copied-secret-value");
        // Another store under the same key: its store id differs, so the same row does not open.
        const location = await newLocation(engine);
        await initializeStore(location, newKey().key);
        await sql(
          location,
          `UPDATE keyway_meta SET value = '${(await metaOf(options)).key_id}' WHERE name = 'key_id'`,
        );
        const second = open({ ...location, env: { KEYWAY_STORE_KEY: keyText } });
        await second.put(ref("SOURCE"), "placeholder-for-the-copied-row");
        const stolen = await readRow(options, "SOURCE");
        await sql(
          location,
          `UPDATE keyway_versions SET wrapped_key = ${stolen.wrapped}, ciphertext = ${stolen.ciphertext}, version = ${stolen.version} WHERE key = 'SOURCE';
           UPDATE keyway_secrets SET current_version = ${stolen.version} WHERE key = 'SOURCE';`,
        );
        const across = await second.get(ref("SOURCE")).catch((e: unknown) => e);
        expect(across).toBeInstanceOf(InvalidSecretValueError);
      });

      it("rotation re-wraps data keys only, resumes after an interruption, and then opens with the new key", async () => {
        const { options, key } = await newStore(engine);
        const backend = open(options);
        for (const k of ["R1", "R2", "R3", "R4"]) await backend.put(ref(k), `rotate-${k}`);
        await backend.close();
        const before = await readRow(options, "R3");
        const next = newKey();
        let batches = 0;
        const interrupted = await rotateStoreKey(
          options,
          key,
          next.key,
          () => {
            if (++batches === 2) throw new Error("interrupted");
          },
          1,
        ).catch((e: unknown) => e);
        expect((interrupted as Error).message).toBe("interrupted");
        // Half done: rows under the new key name it to the old one.
        const half = open(options);
        const errors = await Promise.all(
          ["R1", "R2", "R3", "R4"].map((k) =>
            half.get(ref(k)).then(
              () => undefined,
              (e: unknown) => e,
            ),
          ),
        );
        expect(errors.filter((e) => e instanceof ConfigurationError)).toHaveLength(2);
        const resumed = await rotateStoreKey(options, key, next.key, undefined, 1);
        expect(resumed.rewrapped).toBe(2);
        const after = await readRow(options, "R3");
        expect(after.ciphertext).toBe(before.ciphertext);
        expect(after.wrapped).not.toBe(before.wrapped);
        const rotated = open({ ...options, env: { KEYWAY_STORE_KEY: next.text } });
        for (const k of ["R1", "R2", "R3", "R4"])
          expect((await rotated.get(ref(k))).reveal()).toBe(`rotate-${k}`);
        await expect(open(options).get(ref("R1"))).rejects.toBeInstanceOf(ConfigurationError);
      });

      it("keeps the last keepVersions versions", async () => {
        const { options } = await newStore(engine);
        const backend = open({ ...options, keepVersions: 2 });
        const versions: string[] = [];
        for (const value of ["one", "two", "three"]) {
          await backend.put(ref("KEPT"), value);
          versions.push(await backend.probeVersion(ref("KEPT")));
        }
        await expect(backend.get(ref("KEPT"), { version: versions[0] })).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
        expect((await backend.get(ref("KEPT"), { version: versions[1] })).reveal()).toBe("two");
        expect((await backend.get(ref("KEPT"))).reveal()).toBe("three");
        // keepVersions 1: each write leaves only itself.
        const single = open({ ...options, keepVersions: 1 });
        await single.put(ref("ONE"), "first");
        const firstVersion = await single.probeVersion(ref("ONE"));
        await single.put(ref("ONE"), "second");
        await expect(single.get(ref("ONE"), { version: firstVersion })).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
        expect((await single.get(ref("ONE"))).reveal()).toBe("second");
        await expect(backend.get(ref("KEPT"), { version: "../1" })).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
      });

      it("keeps tenants apart, lists by tenant and prefix, and stores bytes as bytes", async () => {
        const { options } = await newStore(engine);
        const backend = open(options);
        await backend.put(ref("API_TOKEN", "company.team", "acme"), "acme-token");
        await backend.put(ref("API_TOKEN", "company.team", "globex"), "globex-token");
        await backend.put(ref("API_KEY", "company.team", "acme"), "acme-key", { tags: { owner: "ops" } });
        await backend.put(ref("DB_URL", "company.team", "acme"), "postgres://x");
        await expect(backend.get(ref("API_TOKEN"))).rejects.toBeInstanceOf(SecretNotFoundError);
        expect((await backend.get(ref("API_TOKEN", "company.team", "globex"))).reveal()).toBe("globex-token");
        const listed = await backend.list("company.team", { tenant: "acme", prefix: "API_" });
        expect(listed.map((l) => l.key)).toEqual(["API_KEY", "API_TOKEN"]);
        expect(listed[0]?.metadata.tags).toEqual({ owner: "ops" });
        expect(await backend.list("company.team")).toEqual([]);
        const bytes = Uint8Array.from([0, 255, 10, 13, 0xc3]);
        await backend.put(ref("BINARY"), bytes);
        const read = await backend.get(ref("BINARY"));
        expect(read.isBinary).toBe(true);
        expect([...read.revealBytes()]).toEqual([...bytes]);
      });

      it("read-only mode refuses every write and still reads", async () => {
        const { options } = await newStore(engine);
        await open(options).put(ref("RO"), "read-only-value");
        const readOnly = open({ ...options, readOnly: true });
        expect(readOnly.capabilities.write).toBe(false);
        await expect(readOnly.put(ref("RO"), "changed")).rejects.toBeInstanceOf(ReadOnlyError);
        for (const op of [readOnly.delete, readOnly.restore, readOnly.purge])
          await expect(op.call(readOnly, ref("RO"))).rejects.toBeInstanceOf(ReadOnlyError);
        expect((await readOnly.get(ref("RO"))).reveal()).toBe("read-only-value");
      });

      it("init refuses a place that holds a store; opening a place without one says to run init", async () => {
        const location = await newLocation(engine);
        await initializeStore(location, newKey().key);
        await expect(initializeStore(location, newKey().key)).rejects.toBeInstanceOf(ConfigurationError);
        const empty = await newLocation(engine);
        const error = await open({ ...empty, env: { KEYWAY_STORE_KEY: newKey().text } })
          .get(ref("ANY"))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as Error).message).toMatch(/keyway store init/);
      });

      it("inherits through the router like every backend, and keeps tenants apart there", async () => {
        const { options } = await newStore(engine);
        const store = open(options);
        await store.put(ref("SHARED", "company"), "from-company");
        await store.put(ref("SHARED", "company.team.etl"), "from-etl");
        await store.put(ref("ONLY_T", "company", "acme"), "tenant-value");
        const router = createRouter({
          backends: { store, memory: createMemoryBackend() },
          rules: [
            { match: "", backend: "memory" },
            { match: "company", backend: "store" },
            { match: "company", tenant: "acme", backend: "store" },
          ],
        });
        try {
          expect((await router.resolve(ref("SHARED", "company.team.etl.daily"))).reveal()).toBe("from-etl");
          expect((await router.resolve(ref("SHARED", "company.team"))).reveal()).toBe("from-company");
          expect((await router.resolve(ref("ONLY_T", "company.team", "acme"))).reveal()).toBe("tenant-value");
          await expect(router.resolve(ref("ONLY_T", "company.team"))).rejects.toBeInstanceOf(
            SecretNotFoundError,
          );
        } finally {
          await router.close();
        }
      });
    });
  }

  it("keyway.yaml: type store loads this package; url and path together are refused", async () => {
    const { options, keyText } = await newStore("sqlite");
    const dir = await tempDir("keyway-config-");
    const config = path.join(dir, "keyway.yaml");
    writeFileSync(
      config,
      `backends:\n  local: { type: store, path: "${options.path}" }\nnamespaces:\n  - { match: "", backend: local }\n`,
    );
    const router = await loadRouter({ path: config, env: { KEYWAY_STORE_KEY: keyText } });
    try {
      await router.put(ref("FROM_CONFIG"), "configured");
      expect((await router.resolve(ref("FROM_CONFIG"))).reveal()).toBe("configured");
    } finally {
      await router.close();
    }
    writeFileSync(
      config,
      `backends:\n  local: { type: store, path: "${options.path}", url: "postgres://127.0.0.1/x" }\nnamespaces:\n  - { match: "", backend: local }\n`,
    );
    await expect(loadRouter({ path: config, env: {}, strict: true })).rejects.toBeInstanceOf(
      ConfigurationError,
    );
  });
});

describe("keyway.yaml paths", () => {
  it("path: and keyFile: are relative to the config file's folder, not the working directory", async () => {
    const dir = await tempDir("keyway-config-rel-");
    const folder = path.join(dir, "conf");
    const { text, key } = newKey();
    mkdirSync(folder);
    writeFileSync(path.join(folder, "store.key"), text, { mode: 0o600 });
    await initializeStore({ path: path.join(folder, "data", "store") }, key);
    const config = path.join(folder, "keyway.yaml");
    writeFileSync(
      config,
      `backends:\n  local: { type: store, path: data/store, keyFile: ./store.key }\nnamespaces:\n  - { match: "", backend: local }\n`,
    );
    expect(process.cwd()).not.toBe(folder);
    // No KEYWAY_STORE_KEY: the key can only come from conf/store.key.
    const router = await loadRouter({ path: config, env: {}, strict: true });
    try {
      await router.put(ref("RELATIVE"), "beside the config");
      expect((await router.resolve(ref("RELATIVE"))).reveal()).toBe("beside the config");
    } finally {
      await router.close();
    }
    expect(existsSync(path.join(process.cwd(), "data", "store"))).toBe(false);
  });
});

async function metaOf(options: {
  url?: string | undefined;
  path?: string | undefined;
}): Promise<Record<string, string>> {
  if (options.url) {
    const client = new pg.Client(options.url);
    await client.connect();
    try {
      const rows = (await client.query("SELECT name, value FROM keyway_meta")).rows;
      return Object.fromEntries(rows.map((r) => [r.name, r.value]));
    } finally {
      await client.end();
    }
  }
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path.join(options.path as string, "store.db"));
  try {
    const rows = db.prepare("SELECT name, value FROM keyway_meta").all() as Array<{
      name: string;
      value: string;
    }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  } finally {
    db.close();
  }
}

/** A version row's sealed columns as SQL literals of the store's dialect. */
async function readRow(
  options: { url?: string | undefined; path?: string | undefined },
  key: string,
): Promise<{ wrapped: string; ciphertext: string; version: number }> {
  const literal = (b: Buffer) =>
    options.url ? `'\\x${b.toString("hex")}'::bytea` : `X'${b.toString("hex")}'`;
  let row: { wrapped_key: Buffer; ciphertext: Buffer; version: number | string };
  if (options.url) {
    const client = new pg.Client(options.url);
    await client.connect();
    try {
      row = (
        await client.query("SELECT wrapped_key, ciphertext, version FROM keyway_versions WHERE key = $1", [
          key,
        ])
      ).rows[0];
    } finally {
      await client.end();
    }
  } else {
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(path.join(options.path as string, "store.db"));
    try {
      row = db
        .prepare("SELECT wrapped_key, ciphertext, version FROM keyway_versions WHERE key = ?")
        .get(key) as typeof row;
    } finally {
      db.close();
    }
  }
  return {
    wrapped: literal(row.wrapped_key),
    ciphertext: literal(row.ciphertext),
    version: Number(row.version),
  };
}
