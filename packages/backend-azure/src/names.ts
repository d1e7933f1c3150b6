/**
 * The name mapping: a ref `(prefix, tenant, namespace, key)` ↔ one Key Vault secret name.
 *
 * Key Vault names allow only `[0-9A-Za-z-]`, 1–127 characters, and compare case-insensitively,
 * while Keyway keys are case-sensitive (`Key` and `KEY` are two secrets). So every name we
 * write is lower-case, and case, `_`, `.` and `-` are escaped with `-` plus one code character:
 *
 * | text                         | encoded as                                              |
 * |------------------------------|---------------------------------------------------------|
 * | `a`–`z`, `0`–`9`             | itself (a letter in the current case mode, see below)   |
 * | end of a field               | `-0`                                                    |
 * | `.`                          | `-1`                                                    |
 * | `_`                          | `-2`                                                    |
 * | `-`                          | `-3`                                                    |
 * | toggle the case mode         | `-4`                                                    |
 * | one letter in the other case | `-` + the letter (`-k` is `K` in lower mode)            |
 *
 * Each field starts in lower mode. A letter whose case differs from the mode starts a run: if
 * two or more letters of that case follow before a letter of the other case, the encoder
 * toggles the mode (`-4`), else it escapes the one letter. So `DB_PASSWORD` costs 3 characters
 * more, not 11: `-4db-2password`.
 *
 * The name is `<prefix>-0<tenant>-0<namespace>-0<key>` (an absent tenant and the root namespace
 * are empty fields). Decoding reads it back; a name that does not decode, or whose re-encoding
 * differs (not written by this mapping), is not ours. Since every field ends with `-0` and
 * starts in lower mode, the encoded `<prefix>-0<tenant>-0<namespace>-0` is a string prefix of
 * exactly the names in that namespace.
 */
import { formatRef, InvalidReferenceError, type SecretRef } from "@keyway/core/backend";

/** Key Vault's longest secret name. */
export const MAX_NAME_LENGTH = 127;

const FIELD_END = "-0";
const CODES: Record<string, string> = { ".": "1", _: "2", "-": "3" };
const DECODED: Record<string, string> = { "1": ".", "2": "_", "3": "-" };

const isUpper = (c: string) => c >= "A" && c <= "Z";
const isLower = (c: string) => c >= "a" && c <= "z";
const isLetter = (c: string) => isUpper(c) || isLower(c);

/**
 * Encodes one field (prefix, tenant, namespace or key) and its terminator.
 * @throws Error on a character outside `[A-Za-z0-9_.-]` (callers validate first).
 */
export function encodeField(text: string): string {
  let out = "";
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (isLetter(c)) {
      if (isUpper(c) !== upper) {
        if (runLength(text, i) >= 2) {
          out += "-4";
          upper = !upper;
          out += c.toLowerCase();
        } else {
          out += `-${c.toLowerCase()}`;
        }
      } else {
        out += c.toLowerCase();
      }
    } else if (c >= "0" && c <= "9") {
      out += c;
    } else if (CODES[c] !== undefined) {
      out += `-${CODES[c]}`;
    } else {
      throw new Error("A name field holds a character outside [A-Za-z0-9_.-].");
    }
  }
  return out + FIELD_END;
}

/** How many letters of `text[start]`'s case follow from `start`, before one of the other case. */
function runLength(text: string, start: number): number {
  const upper = isUpper(text[start] as string);
  let letters = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i] as string;
    if (!isLetter(c)) continue;
    if (isUpper(c) !== upper) break;
    letters++;
  }
  return letters;
}

/** The fields of a name, or undefined when it is not in this encoding (case-insensitive input). */
export function decodeFields(name: string): string[] | undefined {
  const text = name.toLowerCase();
  const fields: string[] = [];
  let field = "";
  let upper = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c !== "-") {
      if (isLower(c)) field += upper ? c.toUpperCase() : c;
      else if (c >= "0" && c <= "9") field += c;
      else return undefined;
      continue;
    }
    const code = text[++i];
    if (code === undefined) return undefined;
    if (code === "0") {
      fields.push(field);
      field = "";
      upper = false;
    } else if (code === "4") {
      upper = !upper;
    } else if (DECODED[code] !== undefined) {
      field += DECODED[code];
    } else if (isLower(code)) {
      field += upper ? code : code.toUpperCase();
    } else {
      return undefined;
    }
  }
  // Every field ends with "-0", so a well-formed name leaves nothing behind.
  return field === "" ? fields : undefined;
}

/** The encoded `<prefix>-0<tenant>-0<namespace>-0`: the start of every name in that namespace. */
export function namespacePrefix(prefix: string, namespace: string, tenant?: string): string {
  return encodeField(prefix) + encodeField(tenant ?? "") + encodeField(namespace);
}

/** The Key Vault name of a validated ref, without the length check (for tests and tools). */
export function encodeName(prefix: string, ref: SecretRef): string {
  return namespacePrefix(prefix, ref.namespace, ref.tenant) + encodeField(ref.key);
}

/**
 * The Key Vault name of a validated ref.
 * @throws InvalidReferenceError when the name would exceed 127 characters: names are never cut,
 * since a cut name could belong to another key.
 */
export function secretName(prefix: string, ref: SecretRef, backend?: string): string {
  const name = encodeName(prefix, ref);
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidReferenceError(
      `Secret key '${ref.key}' (${formatRef(ref)}) is too long for Azure Key Vault: its name would be ` +
        `${name.length} characters, the limit is ${MAX_NAME_LENGTH}. Use a shorter key, namespace or prefix.`,
      { backend },
    );
  }
  return name;
}

/** A name decoded back to its parts. */
export interface DecodedName {
  readonly prefix: string;
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
}

/**
 * Reads a Key Vault name back, or undefined when this mapping did not write it (wrong shape, or
 * a spelling the encoder would not produce: one secret has one name).
 */
export function decodeName(name: string): DecodedName | undefined {
  const fields = decodeFields(name);
  if (fields?.length !== 4) return undefined;
  const [prefix, tenant, namespace, key] = fields as [string, string, string, string];
  if (key === "") return undefined;
  const decoded = { prefix, tenant: tenant === "" ? undefined : tenant, namespace, key };
  const again = encodeField(prefix) + encodeField(tenant) + encodeField(namespace) + encodeField(key);
  return again === name.toLowerCase() ? decoded : undefined;
}
