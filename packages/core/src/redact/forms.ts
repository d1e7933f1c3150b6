/**
 * The forms a secret takes in logs: the value itself, its lines and JSON leaves ("plain" forms),
 * and the encodings programs apply to them on the way to a log ("encoded" forms).
 */

/** The strings to mask for one value; the redactor applies the short-secret policy to each. */
export interface DerivedForms {
  /** The value, each trimmed line of a multi-line value, each string leaf of a JSON value. */
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
  const plain = typeof value === "string" ? [...plainForms(value, excludeJsonKeys)] : [];
  const plainSet = new Set(plain);
  const encoded = new Set<string>();
  const add = (form: string | undefined) => {
    if (form !== undefined && form.length > 0 && !plainSet.has(form)) encoded.add(form);
  };
  if (typeof value !== "string") byteForms(value).forEach(add);
  for (const unit of plain) {
    add(JSON.stringify(unit).slice(1, -1));
    add(unit.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c));
    const uri = encodeUri(unit);
    add(uri);
    add(uri?.replace(/%20/g, "+"));
    add(new URLSearchParams({ v: unit }).toString().slice(2));
    byteForms(Buffer.from(unit, "utf8")).forEach(add);
    // `echo "$SECRET" | base64`: the newline `echo` adds without `-n` is encoded with the value.
    add(Buffer.from(`${unit}\n`, "utf8").toString("base64"));
  }
  return { plain, encoded: [...encoded] };
}

const XML_ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&apos;",
};

function encodeUri(text: string): string | undefined {
  try {
    return encodeURIComponent(text);
  } catch {
    return undefined; // a lone surrogate cannot be URL-encoded, so it cannot appear URL-encoded either
  }
}

function* plainForms(value: string, excludeJsonKeys: readonly string[]): Generator<string> {
  if (value.length === 0) return;
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
    yield* jsonLeaves(parsed, new Set(excludeJsonKeys));
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
