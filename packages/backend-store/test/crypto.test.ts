// The envelope and the key, without a database: what a sealed version is bound to, that a data key
// re-wrapped under a new key opens the same ciphertext, and how strictly a key is read.
import { randomBytes } from "node:crypto";
import { printedForms } from "@keyway/backend-test-suite";
import { ConfigurationError } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { type Binding, createDataKeyCache, rewrap, seal, unseal } from "../src/crypto.js";
import { generateKeyText, keyId, loadStoreKey, parseKeyText } from "../src/key.js";

const kek = randomBytes(32);
const binding: Binding = { storeId: "store-1", tenant: "", namespace: "company.team", key: "DB", version: 7 };
const plaintext = Buffer.from("s3cr3t-välue\n", "utf8");

describe("envelope encryption", () => {
  it("opens what it sealed, and the sealed bytes hold no plaintext", () => {
    const sealed = seal(kek, binding, plaintext);
    expect(unseal(kek, binding, sealed).equals(plaintext)).toBe(true);
    expect(sealed.ciphertext.includes(plaintext)).toBe(false);
    expect(sealed.wrappedKey.length).toBe(12 + 32 + 16);
  });

  it.each([
    ["another key name", { key: "DB2" }],
    ["another namespace", { namespace: "company" }],
    ["another tenant", { tenant: "acme" }],
    ["another version", { version: 8 }],
    ["another store", { storeId: "store-2" }],
  ])("fails for %s (the fields are bound as associated data)", (_, change) => {
    const sealed = seal(kek, binding, plaintext);
    expect(() => unseal(kek, { ...binding, ...change }, sealed)).toThrow();
  });

  it("with the data-key cache: opens with the cached key, and still fails when moved, altered or re-keyed", () => {
    const cache = createDataKeyCache(4);
    const sealed = seal(kek, binding, plaintext);
    expect(unseal(kek, binding, sealed, cache).equals(plaintext)).toBe(true);
    // A wrong KEK proves the data key now comes from the cache (it cannot be unwrapped with this one).
    expect(unseal(randomBytes(32), binding, sealed, cache).equals(plaintext)).toBe(true);
    for (const change of [{ key: "DB2" }, { version: 8 }, { storeId: "store-2" }])
      expect(() => unseal(kek, { ...binding, ...change }, sealed, cache)).toThrow();
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[14] = (flipped[14] as number) ^ 1;
    expect(() => unseal(kek, binding, { ...sealed, ciphertext: flipped }, cache)).toThrow();
    cache.clear();
    expect(() => unseal(randomBytes(32), binding, sealed, cache)).toThrow();
  });

  it("the data-key cache is bounded, holds data keys only, and zeroes what it drops", () => {
    const cache = createDataKeyCache(2);
    const aad = Buffer.from("aad");
    const dataKeys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    const wrapped = dataKeys.map(() => randomBytes(60));
    for (const [i, dataKey] of dataKeys.entries()) cache.set(aad, wrapped[i] as Buffer, dataKey);
    const first = cache.get(aad, wrapped[0] as Buffer);
    expect(first).toBeUndefined();
    const kept = cache.get(aad, wrapped[2] as Buffer) as Buffer;
    expect(kept.equals(dataKeys[2] as Buffer)).toBe(true);
    expect(kept).not.toBe(dataKeys[2]); // a copy: the caller zeroes its own
    cache.clear();
    expect(kept.equals(Buffer.alloc(32))).toBe(true);
    const off = createDataKeyCache(0);
    off.set(aad, wrapped[0] as Buffer, dataKeys[0] as Buffer);
    expect(off.get(aad, wrapped[0] as Buffer)).toBeUndefined();
  });

  it("fails under another key, and for a flipped bit", () => {
    const sealed = seal(kek, binding, plaintext);
    expect(() => unseal(randomBytes(32), binding, sealed)).toThrow();
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[14] = (flipped[14] as number) ^ 1;
    expect(() => unseal(kek, binding, { ...sealed, ciphertext: flipped })).toThrow();
  });

  it("a re-wrapped data key opens the same ciphertext under the new key", () => {
    const sealed = seal(kek, binding, plaintext);
    const next = randomBytes(32);
    const wrappedKey = rewrap(kek, next, binding, sealed.wrappedKey);
    expect(unseal(next, binding, { wrappedKey, ciphertext: sealed.ciphertext }).equals(plaintext)).toBe(true);
    expect(() => unseal(kek, binding, { wrappedKey, ciphertext: sealed.ciphertext })).toThrow();
  });
});

describe("the key-encryption key", () => {
  it("reads canonical base64 of 32 bytes only, and names where it looked, never the key", () => {
    const text = generateKeyText();
    expect(parseKeyText(`${text}\n`, "KEYWAY_STORE_KEY").bytes.length).toBe(32);
    for (const bad of [
      text.slice(0, -4),
      `${text}AAAA`,
      text.replace(/.$/, "!"),
      "",
      Buffer.alloc(31).toString("base64"),
    ]) {
      const error = (() => {
        try {
          return parseKeyText(bad, "KEYWAY_STORE_KEY");
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toContain("KEYWAY_STORE_KEY");
      if (bad.length > 8) expect(printedForms(error)).not.toContain(bad.slice(0, 12));
    }
    expect(() => loadStoreKey(undefined, {})).toThrow(/KEYWAY_STORE_KEY/);
    expect(() => loadStoreKey("/nonexistent/keyway.key", {})).toThrow(/\/nonexistent\/keyway.key/);
  });

  it("a key's id is stable, differs between keys, and is not derived without the key", () => {
    const a = randomBytes(32);
    expect(keyId(a)).toBe(keyId(Buffer.from(a)));
    expect(keyId(a)).not.toBe(keyId(randomBytes(32)));
    expect(keyId(a)).toMatch(/^[0-9a-f]{16}$/);
    expect(a.toString("hex")).not.toContain(keyId(a));
  });
});
