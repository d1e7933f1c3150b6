/**
 * Kestra's decoding of `SECRET_` values, done strictly: strip the line breaks Java's `\R`
 * matches, decode base64 as Java's basic decoder does, then read the bytes as strict UTF-8.
 * Node's `Buffer.from(s, "base64")` is lenient (it accepts `admin`, spaces, `-`/`_`) and
 * returns garbage instead of failing, so the alphabet and padding are checked here.
 */

/** Java `\R` without the CRLF pair (CR and LF are removed one by one anyway). */
const LINE_BREAKS = /[\n\v\f\r\u0085\u2028\u2029]/g;
const BASE64 = /^[A-Za-z0-9+/]*$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

export type DecodeResult = { ok: true; value: string } | { ok: false; reason: string; hint?: string };

/** Checks `text` the way `java.util.Base64.getDecoder()` would and returns the bytes. */
export function decodeStrictBase64(
  text: string,
): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  const firstPad = text.indexOf("=");
  const body = firstPad === -1 ? text : text.slice(0, firstPad);
  const padding = firstPad === -1 ? "" : text.slice(firstPad);
  if (!BASE64.test(body)) {
    return { ok: false, reason: `it is not base64: ${describeBadCharacter(body)}` };
  }
  if (padding !== "" && (!/^={1,2}$/.test(padding) || (body.length + padding.length) % 4 !== 0)) {
    return { ok: false, reason: "it is not base64: the '=' padding is misplaced or incomplete" };
  }
  if (body.length % 4 === 1)
    return { ok: false, reason: "it is not base64: its length is impossible for base64" };
  return { ok: true, bytes: Buffer.from(body, "base64") };
}

/** Decodes one `SECRET_` value: strip line breaks, strict base64, strict UTF-8. */
export function decodeSecretValue(raw: string): DecodeResult {
  const decoded = decodeStrictBase64(raw.replace(LINE_BREAKS, ""));
  if (!decoded.ok) return decoded;
  try {
    return { ok: true, value: utf8.decode(decoded.bytes) };
  } catch {
    return {
      ok: false,
      reason: "its decoded bytes are not valid UTF-8",
      hint: "was the value base64-encoded?",
    };
  }
}

/** Says what is wrong without echoing any character of the value. */
function describeBadCharacter(body: string): string {
  const position = body.search(/[^A-Za-z0-9+/]/);
  const c = body[position] ?? "";
  if (c === "-" || c === "_") return "it uses the URL-safe alphabet ('-' or '_'); use standard base64";
  if (/\s/.test(c)) return `it contains whitespace at position ${position + 1}`;
  return `it contains a character outside the base64 alphabet at position ${position + 1}`;
}
