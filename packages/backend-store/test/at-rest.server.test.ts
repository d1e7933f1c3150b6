// No plaintext at rest: values written through every path (versions, metadata updates, soft
// delete and restore, compare-and-set, purge, key rotation) are not in PostgreSQL's data files,
// its WAL or its log (after a CHECKPOINT), nor in the embedded folder, as they are or in base64.
// The grep is shown to find a value that is stored in the clear, so its silence means something.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { rotateStoreKey } from "../src/index.js";
import { ENGINES, findPlaintext, newKey, newStore, openStore, postgresFiles, server } from "./helpers.js";

const run = randomBytes(6).toString("hex");
const values = [
  `plain-at-rest-${run}`,
  `ünïcødé-秘密-🔑-${run}`,
  JSON.stringify({ user: "admin", password: `pw-at-rest-${run}`, nested: { a: [1, 2] } }),
  `-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-${run}\n-----END PRIVATE KEY-----\n`,
  `${"large-value-".repeat(5000)}${run}`,
];

describe.skipIf(!server)("no plaintext at rest", () => {
  for (const engine of ENGINES) {
    it(`${engine}: no value written through any path is in the files, plain or base64`, async () => {
      const { options, key } = await newStore(engine);
      const backend = openStore(options);
      const ref = (k: string) => ({ namespace: "company.at-rest", key: k, tenant: "acme" });
      for (const [i, value] of values.entries()) {
        await backend.put(ref(`V${i}`), value, { description: "at rest", tags: { i: String(i) } });
        await backend.put(ref(`V${i}`), `${value}-second-version`);
      }
      const version = await backend.probeVersion(ref("V0"));
      await backend.put(ref("V0"), `cas-at-rest-${run}`, {}, { ifVersion: version });
      await backend.delete(ref("V1"));
      await backend.restore(ref("V1"));
      await backend.put(ref("GONE"), `purged-at-rest-${run}`);
      await backend.purge(ref("GONE"));
      await backend.close();
      const next = newKey();
      await rotateStoreKey(options, key, next.key);
      const rotated = openStore({ ...options, env: { KEYWAY_STORE_KEY: next.text } });
      expect((await rotated.get(ref("V2"))).reveal()).toBe(`${values[2]}-second-version`);
      await rotated.close();
      const written = [
        ...values,
        ...values.map((v) => `${v}-second-version`),
        `cas-at-rest-${run}`,
        `purged-at-rest-${run}`,
      ];
      const files = engine === "postgres" ? await postgresFiles() : [options.path as string];
      expect(files.length).toBeGreaterThan(0);
      expect(findPlaintext(files, written)).toEqual([]);
    });
  }

  it("the grep finds a value PostgreSQL stores in the clear (in its data files and WAL)", async () => {
    const { options } = await newStore("postgres");
    const clear = `clear-text-control-${run}`;
    const client = new pg.Client(options.url);
    await client.connect();
    try {
      await client.query("CREATE TABLE control (v text)");
      await client.query("INSERT INTO control VALUES ($1)", [clear]);
    } finally {
      await client.end();
    }
    expect(findPlaintext(await postgresFiles(), [clear])).toContain(clear);
  });
});
