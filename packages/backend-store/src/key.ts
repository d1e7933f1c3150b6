/**
 * The key-encryption key (KEK): 32 random bytes, given as base64 in KEYWAY_STORE_KEY or in a key
 * file. Its id (an HMAC of a fixed label, so it says nothing about the key) is stored with every
 * wrapped data key, so a store opened with another key fails with an error naming both ids.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigurationError } from "@keyway/core/backend";

/** The variable the key is read from when no `keyFile` is given. */
export const KEY_VARIABLE = "KEYWAY_STORE_KEY";
const KEY_BYTES = 32;

/** A loaded key-encryption key and its id. */
export interface StoreKey {
  readonly id: string;
  readonly bytes: Buffer;
  /** Where it came from, for messages: `KEYWAY_STORE_KEY` or `key file '<path>'`. */
  readonly source: string;
}

/** The id of a key: 16 hex characters, stable, and revealing nothing of the key. */
export function keyId(bytes: Buffer): string {
  return createHmac("sha256", bytes).update("keyway-store key id v1").digest("hex").slice(0, 16);
}

/** A new random key, as the base64 text a key file or KEYWAY_STORE_KEY holds. */
export function generateKeyText(): string {
  return randomBytes(KEY_BYTES).toString("base64");
}

/** Decodes base64 text strictly: only the canonical encoding of exactly 32 bytes is a key. */
export function parseKeyText(text: string, source: string): StoreKey {
  const trimmed = text.trim();
  const bytes = Buffer.from(trimmed, "base64");
  if (bytes.length !== KEY_BYTES || bytes.toString("base64") !== trimmed) {
    throw new ConfigurationError(
      `The store key in ${source} is not base64 of ${KEY_BYTES} bytes (it decodes to ${bytes.length}); create one with \`keyway store init\` or \`openssl rand -base64 32\`.`,
    );
  }
  return { id: keyId(bytes), bytes, source };
}

/** Reads the key from `keyFile` when given, else from KEYWAY_STORE_KEY in `env`. Never creates one. */
export function loadStoreKey(
  keyFile: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): StoreKey {
  if (keyFile !== undefined) {
    const source = `key file '${keyFile}'`;
    let text: string;
    try {
      text = readFileSync(keyFile, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "unreadable";
      throw new ConfigurationError(`The store key cannot be read from ${source} (${code}).`);
    }
    return parseKeyText(text, source);
  }
  const text = env[KEY_VARIABLE];
  if (text === undefined || text.trim() === "") {
    throw new ConfigurationError(
      `No store key: set ${KEY_VARIABLE} (base64 of ${KEY_BYTES} random bytes) or give keyFile: in the backend's options (\`keyway store init\` creates one).`,
    );
  }
  return parseKeyText(text, KEY_VARIABLE);
}
