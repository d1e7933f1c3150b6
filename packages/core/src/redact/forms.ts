/**
 * The forms a secret takes in logs: the value itself, its lines and JSON leaves ("plain" forms),
 * and the encodings programs apply to them on the way to a log ("encoded" forms).
 */

/** The strings to mask for one value; the redactor applies the short-secret policy to each. */
export interface DerivedForms {
  /**
   * The value, each trimmed line of a multi-line value, each string leaf of a JSON value, and the
   * same again for each leaf (its lines; its leaves when it holds JSON text).
   */
  plain: string[];
  /** Encodings of each plain form (and of the raw bytes of a binary value); none repeats a plain form. */
  encoded: string[];
}

/**
 * Every form of `value` worth masking. A `Uint8Array` is a binary value that is not UTF-8 text:
 * only its byte encodings (base64, hex) can appear in logs.
 */
export function derivedForms(
  value: string | Uint8Array,
  excludeJsonKeys: readonly string[] = [],
): DerivedForms {
  // "Wholes" are what a user hands to an encoder as one piece: the value, a field of it.
  const wholes: Uint8Array[] = typeof value === "string" ? [] : [value];
  const plain = plainFormsOf(value, excludeJsonKeys, wholes);
  const plainSet = new Set(plain);
  const encoded = new Set<string>();
  const add = (form: string) => {
    if (form.length > 0 && !plainSet.has(form)) encoded.add(form);
  };
  if (typeof value !== "string") byteForms(value).forEach(add);
  for (const unit of plain) {
    jsonForms(unit).forEach(add);
    add(unit.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c));
    percentForms(unit).forEach(add);
    byteForms(Buffer.from(unit, "utf8")).forEach(add);
    // `echo "$SECRET" | base64`: the newline `echo` adds without `-n` is encoded with the value.
    add(Buffer.from(`${unit}\n`, "utf8").toString("base64"));
  }
  for (const whole of wholes) wrappedBase64(whole).forEach(add);
  return { plain, encoded: [...encoded] };
}

/**
 * The plain forms alone (see {@link DerivedForms.plain}): what the short-secret policy is checked
 * on, cheaper than every encoding. `wholes` collects the pieces a user would encode whole.
 */
export function plainFormsOf(
  value: string | Uint8Array,
  excludeJsonKeys: readonly string[] = [],
  wholes: Uint8Array[] = [],
): string[] {
  return typeof value === "string" ? [...new Set(plainForms(value, new Set(excludeJsonKeys), wholes))] : [];
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

/** `\uXXXX` for one UTF-16 unit, lower-case hex as Go, Python and PHP write it. */
const uEscape = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * The optional escapes of JSON encoders, on three independent axes; each encoder is one choice
 * per axis. All of them escape `"`, `\\` and control characters as JavaScript does.
 * - `/` as `\/`: PHP's `json_encode` (unless `JSON_UNESCAPED_SLASHES`), Ruby's `script_safe`;
 * - `<`, `>`, `&` as `\u003c`, `\u003e`, `\u0026`: Go's `encoding/json` (HTML-safe);
 * - beyond ASCII: U+2028 and U+2029 only (Go; PHP with `JSON_UNESCAPED_UNICODE`), every non-ASCII
 *   character (PHP), or everything outside printable ASCII, DEL included (Python's `json.dumps`
 *   by default). Astral characters become surrogate pairs: the expressions read UTF-16 units.
 * JavaScript, Jackson, serde and Python with `ensure_ascii=False` choose none.
 */
const JSON_ESCAPE_AXES: ReadonlyArray<ReadonlyArray<(form: string) => string>> = [
  [(form) => form.replace(/\//g, "\\/")],
  [(form) => form.replace(/[<>&]/g, uEscape)],
  [
    (form) => form.replace(/[\u2028\u2029]/g, uEscape),
    (form) => form.replace(/[\u0080-\uffff]/g, uEscape),
    (form) => form.replace(/[^\x20-\x7e]/g, uEscape),
  ],
];

/**
 * The inside of the JSON string literal of `unit` under every combination of the optional
 * escapes. An axis the value has no character for adds nothing: most values have 1 to 4 forms.
 */
function jsonForms(unit: string): string[] {
  // The escapes only add ASCII letters, digits and `\`, which no other axis touches: they commute.
  const forms = new Set([JSON.stringify(unit).slice(1, -1)]);
  for (const axis of JSON_ESCAPE_AXES)
    for (const form of [...forms]) for (const applyEscape of axis) forms.add(applyEscape(form));
  return [...forms];
}

/**
 * The ASCII characters each family of percent-encoders leaves as they are; every other byte of
 * the UTF-8 text becomes `%XX`.
 */
const KEPT: readonly RegExp[] = [
  /[A-Za-z0-9\-_.!~*'()]/, // JavaScript's encodeURIComponent
  /[A-Za-z0-9*\-._]/, // form encoding: URLSearchParams, Java's URLEncoder
  /[A-Za-z0-9\-._~]/, // RFC 3986 unreserved: Go's url.QueryEscape, PHP's rawurlencode, Python's quote(safe="")
  /[A-Za-z0-9\-._~/]/, // Python's urllib.parse.quote (keeps `/` by default)
  /[A-Za-z0-9\-._]/, // PHP's urlencode (encodes `~` and `*` too; found by its test against real PHP)
];

/** How one style percent-encodes each byte: `codes[3b..3b+len[b]]` are the ASCII codes it writes. */
interface PercentStyle {
  plus: boolean;
  codes: Uint8Array;
  lengths: Uint8Array;
}

/**
 * Per family of {@link KEPT}, the styles: `%XX` in upper- and lower-case hex (.NET's
 * HttpUtility.UrlEncode writes `%2f`), each with `%20` and with `+` for a space (form encoding,
 * Python's quote_plus, PHP's urlencode). Byte tables, since a value's bytes are mapped 20 ways.
 */
function buildPercentStyles(): PercentStyle[] {
  return KEPT.flatMap((kept) =>
    [false, true].flatMap((plus) =>
      [false, true].map((lower) => {
        const codes = new Uint8Array(256 * 3);
        const lengths = new Uint8Array(256);
        for (let byte = 0; byte < 256; byte++) {
          const c = String.fromCharCode(byte);
          const hex = byte.toString(16).padStart(2, "0");
          const written =
            byte < 0x80 && kept.test(c) ? c : plus && c === " " ? "+" : `%${lower ? hex : hex.toUpperCase()}`;
          // Char codes straight into the table: a Buffer per byte made this 4 ms of every start-up.
          for (let i = 0; i < written.length; i++) codes[3 * byte + i] = written.charCodeAt(i);
          lengths[byte] = written.length;
        }
        return { plus, codes, lengths };
      }),
    ),
  );
}
/** Built on the first registration, not at import: importing core stays cheap. */
let percentStyles: readonly PercentStyle[] | undefined;

/** `unit` percent-encoded in each style of {@link buildPercentStyles}. */
function percentForms(unit: string): string[] {
  const bytes = Buffer.from(unit, "utf8");
  const hasSpace = bytes.includes(0x20);
  const buffer = Buffer.allocUnsafe(3 * bytes.length);
  const out: string[] = [];
  percentStyles ??= buildPercentStyles();
  for (const { plus, codes, lengths } of percentStyles) {
    if (plus && !hasSpace) continue; // the same as without `+`
    let n = 0;
    for (const byte of bytes) {
      const at = 3 * byte;
      const length = lengths[byte] as number;
      buffer[n++] = codes[at] as number;
      if (length === 3) {
        buffer[n++] = codes[at + 1] as number;
        buffer[n++] = codes[at + 2] as number;
      }
    }
    out.push(buffer.toString("latin1", 0, n));
  }
  return out;
}

/** Line widths of wrapped base64: GNU `base64`, MIME, Python's encodebytes (76); openssl, PEM (64). */
const WRAP_WIDTHS = [76, 64];
/**
 * A last, partial line shorter than this (6 bytes or fewer) is left: such short base64 strings
 * match unrelated base64 in logs, and a pattern under 11 characters would shorten the matcher's
 * sampling stride (engine.ts), slowing every scan for every secret.
 */
export const MIN_WRAPPED_TAIL = 12;

/**
 * The lines of the standard base64 of `bytes`, and of `bytes` plus the newline `echo` adds, as
 * tools wrap it: a log prints each line on its own, often behind a prefix or indentation. Every
 * line is a whole number of 3-byte groups (76 and 64 are multiples of 4), so each line is fixed
 * by the value alone.
 */
function wrappedBase64(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (const input of [bytes, Buffer.concat([bytes, NEWLINE])]) {
    const base64 = Buffer.from(input).toString("base64");
    for (const width of WRAP_WIDTHS) {
      if (base64.length <= width) continue; // one line: the unwrapped form, already there
      for (let i = 0; i < base64.length; i += width) {
        const line = base64.slice(i, i + width);
        if (line.length >= MIN_WRAPPED_TAIL) lines.push(line);
      }
    }
  }
  return lines;
}

const NEWLINE = Buffer.from("\n");

/**
 * The value, its trimmed lines, and the same for each string leaf when it is JSON text, down to
 * nested JSON held in a leaf: a field of a JSON secret is printed (and encoded) like a secret of
 * its own. Pushes the value and each leaf to `wholes`, as UTF-8.
 */
function* plainForms(value: string, exclude: ReadonlySet<string>, wholes: Uint8Array[]): Generator<string> {
  if (value.length === 0) return;
  wholes.push(Buffer.from(value, "utf8"));
  yield value;
  if (/[\r\n]/.test(value)) {
    for (const line of value.split(/\r\n|\r|\n/)) {
      const trimmed = line.trim();
      if (trimmed.length > 0) yield trimmed;
    }
  }
  const trimmed = value.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      return; // not JSON: the value and its lines are all there is
    }
    // Each level is shorter than the one holding it, so this ends.
    for (const leaf of jsonLeaves(parsed, exclude)) yield* plainForms(leaf, exclude, wholes);
  }
}

function* jsonLeaves(node: unknown, exclude: ReadonlySet<string>): Generator<string> {
  if (typeof node === "string") {
    if (node.length > 0) yield node;
  } else if (Array.isArray(node)) {
    for (const item of node) yield* jsonLeaves(item, exclude);
  } else if (node !== null && typeof node === "object") {
    for (const [key, item] of Object.entries(node)) if (!exclude.has(key)) yield* jsonLeaves(item, exclude);
  }
}

/**
 * Hex (both cases) and base64 of `bytes`: standard and URL-safe, padded and unpadded, and the
 * characters that encode these bytes inside a longer base64 blob at each of the three byte
 * alignments (GitHub runner #291), since a blob's other bytes change the characters at the edges.
 */
function byteForms(bytes: Uint8Array): string[] {
  const hex = Buffer.from(bytes).toString("hex");
  const standard = Buffer.from(bytes).toString("base64");
  const base64 = [standard, standard.replace(/=+$/, "")];
  for (let align = 0; align < 3; align++) {
    const padded = new Uint8Array(align + bytes.length);
    padded.set(bytes, align);
    const total = padded.length;
    // Characters fully decided by the value: skip the ones that mix in the bytes before it
    // (2 for one byte before, 3 for two), stop before the ones that mix in the bytes after it.
    const start = [0, 2, 3][align] ?? 0;
    const end = 4 * Math.floor(total / 3) + (total % 3);
    base64.push(Buffer.from(padded).toString("base64").slice(start, end));
  }
  const urlSafe = base64.map((form) => form.replace(/\+/g, "-").replace(/\//g, "_"));
  return [hex, hex.toUpperCase(), ...base64, ...urlSafe];
}
