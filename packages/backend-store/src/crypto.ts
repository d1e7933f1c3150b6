/**
 * Envelope encryption with node:crypto. Each version is encrypted with AES-256-GCM under its own
 * random data key; the data key is wrapped (AES-256-GCM too) by the key-encryption key. Both
 * carry the same associated data: the store's id, tenant, namespace, key and version, so a row
 * copied to another name, version or store fails to decrypt instead of answering for it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a version is bound to. */
export interface Binding {
  readonly storeId: string;
  readonly tenant: string;
  readonly namespace: string;
  readonly key: string;
  readonly version: number;
}

/** A sealed version: its wrapped data key and its ciphertext (each `iv | ciphertext | tag`). */
export interface Sealed {
  readonly wrappedKey: Buffer;
  readonly ciphertext: Buffer;
}

/** The associated data: JSON of the fields, so no two bindings share an encoding. */
function associatedData(binding: Binding): Buffer {
  const { storeId, tenant, namespace, key, version } = binding;
  return Buffer.from(JSON.stringify(["keyway-store/1", storeId, tenant, namespace, key, version]));
}

function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Decrypts `iv | ciphertext | tag`; throws (a plain Error, no data) when the tag does not match. */
function decrypt(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error("sealed data too short");
  const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/**
 * Unwrapped data keys, by the wrapped key and the binding it was wrapped for: a read of a version
 * read before decrypts once (its value) instead of twice. Bounded (least recently used dropped
 * first); a dropped key's bytes are zeroed. Holds data keys only, never a value.
 */
export interface DataKeyCache {
  get(aad: Buffer, wrappedKey: Buffer): Buffer | undefined;
  set(aad: Buffer, wrappedKey: Buffer, dataKey: Buffer): void;
  clear(): void;
}

/** A cache of at most `max` data keys (0: none kept). */
export function createDataKeyCache(max: number): DataKeyCache {
  if (max === 0) return { get: () => undefined, set: () => {}, clear: () => {} };
  const keys = new LRUCache<string, Buffer>({ max, dispose: (dataKey) => dataKey.fill(0) });
  // The binding is part of the entry's name: a wrapped key copied to another name never hits.
  const id = (aad: Buffer, wrappedKey: Buffer) =>
    `${wrappedKey.toString("base64")}|${aad.toString("latin1")}`;
  return {
    get: (aad, wrappedKey) => keys.get(id(aad, wrappedKey)),
    set: (aad, wrappedKey, dataKey) => {
      keys.set(id(aad, wrappedKey), Buffer.from(dataKey));
    },
    clear: () => keys.clear(),
  };
}

/**
 * Encrypts `plaintext` under a fresh data key, wrapped by `kek`. (The data key is not cached: a
 * put costs no cache work, and the first read of the version caches it.)
 */
export function seal(kek: Buffer, binding: Binding, plaintext: Buffer): Sealed {
  const aad = associatedData(binding);
  const dataKey = randomBytes(32);
  try {
    return { wrappedKey: encrypt(kek, dataKey, aad), ciphertext: encrypt(dataKey, plaintext, aad) };
  } finally {
    dataKey.fill(0);
  }
}

/**
 * Decrypts a sealed version; throws a plain Error (no data) when it was altered or moved. With a
 * cache, the data key is unwrapped once per version (the value's own tag still checks the binding).
 */
export function unseal(kek: Buffer, binding: Binding, sealed: Sealed, cache?: DataKeyCache): Buffer {
  const aad = associatedData(binding);
  const cached = cache?.get(aad, sealed.wrappedKey);
  if (cached) return decrypt(cached, sealed.ciphertext, aad);
  const dataKey = decrypt(kek, sealed.wrappedKey, aad);
  try {
    const plaintext = decrypt(dataKey, sealed.ciphertext, aad);
    cache?.set(aad, sealed.wrappedKey, dataKey);
    return plaintext;
  } finally {
    dataKey.fill(0);
  }
}

/** Re-wraps a data key under `newKek` without touching the value's ciphertext (key rotation). */
export function rewrap(oldKek: Buffer, newKek: Buffer, binding: Binding, wrappedKey: Buffer): Buffer {
  const aad = associatedData(binding);
  const dataKey = decrypt(oldKek, wrappedKey, aad);
  try {
    return encrypt(newKek, dataKey, aad);
  } finally {
    dataKey.fill(0);
  }
}
