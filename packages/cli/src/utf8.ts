/**
 * Strict UTF-8 for text input (templates, flows, .env files): bytes that are not UTF-8 are an
 * error that says where, never U+FFFD. A rendered flow must reach the executor byte for byte, and
 * a .env value silently changed would be stored as the wrong secret.
 */
import { CliError } from "./cli-error.js";
import { EXIT } from "./exit-codes.js";

// `ignoreBOM` keeps a byte-order mark as U+FEFF, as Node's own decoding did: the output keeps it.
const strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const lenient = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Decodes `bytes`, or throws a {@link CliError} (exit 3) naming `name`, the byte offset and the
 * line of the first invalid sequence. The bytes themselves are not shown: in a .env they are part
 * of a secret.
 */
export function decodeUtf8(bytes: Uint8Array, name: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    const offset = firstInvalidByte(bytes);
    let line = 1;
    for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
    throw new CliError(
      `${name} is not valid UTF-8 at byte offset ${offset} (line ${line}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8).`,
      EXIT.invalid,
    );
  }
}

/**
 * The offset of the first byte the decoder replaced. The platform's lenient decoder marks each
 * invalid sequence with one U+FFFD and keeps everything before it exact, so the offset is the
 * UTF-8 length of the text before the first U+FFFD that is not a real one (EF BF BD in the input).
 */
function firstInvalidByte(bytes: Uint8Array): number {
  const text = lenient.decode(bytes);
  let offset = 0;
  let from = 0;
  for (let at = text.indexOf("\uFFFD"); at !== -1; at = text.indexOf("\uFFFD", at + 1)) {
    offset += Buffer.byteLength(text.slice(from, at), "utf8");
    if (!(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd)) return offset;
    offset += 3;
    from = at + 1;
  }
  return bytes.length; // not reached: strict decoding failed, so some U+FFFD is not real
}
