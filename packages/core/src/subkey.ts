/**
 * Kestra's `subkey`: the value is a JSON object; a top-level key's scalar gives its JSON source
 * text unchanged (`1.0` stays `1.0`, big integers keep every digit), a string its text, and an
 * object or array its compact JSON.
 */
import { createRequire } from "node:module";
import { InvalidSecretValueError, SubkeyNotFoundError } from "./errors.js";
import type { Redactor } from "./redact/types.js";
import { SecretValue } from "./value.js";

type LosslessJson = typeof import("lossless-json");

/**
 * lossless-json is loaded on the first sub-key read, not with `@keyway/core`: its ESM build costs
 * ~14 ms at import, a third of core's import time (bench/cases/import-cost.mjs), and most
 * processes never read a sub-key. `require` keeps `extractSubkey` synchronous.
 */
let lossless: LosslessJson | undefined;
const losslessJson = (): LosslessJson => {
  lossless ??= createRequire(import.meta.url)("lossless-json") as LosslessJson;
  return lossless;
};

/**
 * Extracts `subkey` from the JSON object in `value`.
 * @throws InvalidSecretValueError (Kestra's message) when the value is not a JSON object.
 * @throws SubkeyNotFoundError when the object has no such top-level key.
 */
export function extractSubkey(value: string, key: string, subkey: string): string {
  const { isLosslessNumber, parse, stringify } = losslessJson();
  let parsed: unknown;
  try {
    parsed = parse(value);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || isLosslessNumber(parsed)) {
    throw new InvalidSecretValueError(
      `Failed to read secret sub-key '${subkey}' from secret '${key}'. Ensure the secret contains valid JSON value.`,
    );
  }
  if (!Object.hasOwn(parsed, subkey)) throw new SubkeyNotFoundError(key, subkey);
  const leaf = (parsed as Record<string, unknown>)[subkey];
  if (typeof leaf === "string") return leaf;
  if (isLosslessNumber(leaf)) return leaf.value;
  return stringify(leaf) ?? "null";
}

/**
 * The one sub-key read of a secret value, used by every path that reads one (resolve, render, the
 * single-backend resolver): the value's text (bytes that are not UTF-8 have none), the sub-key's
 * text in it, registered with `redactor` (a leaf is a secret too, and may differ from the whole).
 * @throws InvalidSecretValueError (binary, or not a JSON object), SubkeyNotFoundError
 */
export function readSubkey(
  value: SecretValue,
  key: string,
  subkey: string,
  redactor: Pick<Redactor, "register">,
): string {
  let text: string;
  try {
    text = value.reveal();
  } catch {
    // Bytes that are not UTF-8 (reveal() throws a TypeError) have no sub-keys.
    throw new InvalidSecretValueError(
      `Failed to read secret sub-key '${subkey}' from secret '${key}': the secret is binary, not UTF-8 text.`,
    );
  }
  const leaf = extractSubkey(text, key, subkey);
  redactor.register(leaf, { key: `${key}.${subkey}` });
  return leaf;
}

/**
 * {@link readSubkey} as a value with the same metadata (what the caching resolver returns).
 * @internal
 */
export function subkeyValue(
  value: SecretValue,
  key: string,
  subkey: string,
  redactor: Pick<Redactor, "register">,
): SecretValue {
  return SecretValue.fromText(readSubkey(value, key, subkey, redactor), value.metadata);
}
