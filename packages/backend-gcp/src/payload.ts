/**
 * Values ⇄ payload bytes. Text is stored as UTF-8; bytes as they are, with the secret annotated
 * `keyway-encoding=binary` so `get` returns bytes. Checks run before any call and never print the value.
 */
import {
  InvalidSecretValueError,
  type SecretMetadata,
  type SecretRef,
  SecretValue,
} from "@keyway/core/backend";
import { crc32c } from "./client.js";

/** Google's limit on a payload: 64 KiB. */
export const MAX_VALUE_BYTES = 65_536;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bytes to store for `value`. @throws InvalidSecretValueError (too large, not Unicode, not a value). */
export function encodePayload(ref: SecretRef, value: string | Uint8Array, backend: string): Uint8Array {
  const bad = (why: string) => new InvalidSecretValueError(`The value of '${ref.key}' ${why}.`, { backend });
  // TextEncoder would silently turn a lone surrogate into U+FFFD: a different secret.
  if (typeof value === "string" && /\p{Cs}/u.test(value))
    throw bad("is not valid Unicode (a lone surrogate)");
  if (typeof value !== "string" && !(value instanceof Uint8Array))
    throw bad("must be a string or a Uint8Array");
  const bytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  if (bytes.byteLength > MAX_VALUE_BYTES) {
    throw bad(`is ${bytes.byteLength} bytes; Google Secret Manager stores at most ${MAX_VALUE_BYTES}`);
  }
  return bytes;
}

/** The payload's bytes; a string is the proto JSON form of bytes (base64). */
export function payloadBytes(data: Uint8Array | string | null | undefined): Uint8Array {
  if (data === null || data === undefined) return new Uint8Array();
  return typeof data === "string" ? Buffer.from(data, "base64") : data;
}

/**
 * Whether `bytes` match the CRC32C the server sent (an int64, as a string or number). 0 means
 * "none": the emulator answers 0 for versions written without a checksum.
 */
export function checksumMatches(bytes: Uint8Array, sent: unknown): boolean {
  const expected = Number(sent ?? 0);
  return expected === 0 || crc32c(bytes) === expected;
}

/** Bytes when marked binary or not valid UTF-8 (lossless either way), text otherwise. */
export function toSecretValue(bytes: Uint8Array, binary: boolean, metadata: SecretMetadata): SecretValue {
  if (!binary) {
    try {
      return SecretValue.fromText(decoder.decode(bytes), metadata);
    } catch {
      // Not UTF-8: written by another tool without our marker. The bytes are still the value.
    }
  }
  return SecretValue.fromBytes(bytes, metadata);
}
