/**
 * Writing rendered strings back into a document: JSON strings spliced in place, YAML scalars in a
 * style that holds the value (a block literal for several lines, quoted where plain would be
 * misread), every other byte unchanged; then the output parsed again and checked.
 */
import { CST, isScalar, parseDocument, type Scalar } from "yaml";
// From the main entry, not its modules (see ../document.ts).
import { TemplateError } from "../internal.js";
import { type ParsedDocument, parseStructured, type StringScalar } from "./parse.js";

export interface Change extends StringScalar {
  readonly value: string;
}

export function spliceJson(text: string, changes: readonly Change[]): string {
  const ordered = [...changes].sort((a, b) => (a.node.range?.[0] ?? 0) - (b.node.range?.[0] ?? 0));
  let out = "";
  let last = 0;
  for (const change of ordered) {
    const [start, end] = change.node.range ?? [0, 0];
    out += text.slice(last, start) + JSON.stringify(change.value);
    last = end;
  }
  return out + text.slice(last);
}

export function rewriteYaml(parsed: ParsedDocument, changes: readonly Change[]): string {
  for (const { node, value, inFlow, isKey, afterKey, references } of changes) {
    const oneLine = inFlow || isKey;
    const block = value.includes("\n") || node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED";
    const type = SNAKEYAML_SPECIAL.test(value)
      ? "QUOTE_DOUBLE"
      : block && !oneLine && holdsAsBlock(value)
        ? "BLOCK_LITERAL"
        : singleLineType(node, value);
    // Anything but a block literal is written on one line (`implicitKey`: escapes, not folded
    // line breaks). A flow collection needs that, and yaml 2.9 folds some double-quoted values
    // wrongly ("a\n \nb" comes back as "a\n\\\nb"); the output check below catches the rest.
    const implicitKey = oneLine || type !== "BLOCK_LITERAL";
    const token = node.srcToken as CST.Token;
    CST.setScalarValue(token, value, { afterKey, implicitKey, inFlow, type });
    if (type === "QUOTE_DOUBLE" && token.type === "double-quoted-scalar")
      token.source = token.source.replace(SNAKEYAML_SPECIAL_ALL, yamlEscape);
    if (isKey && CST.stringify(token).length > MAX_KEY) {
      const { line, column } = references[0] ?? { line: 0, column: 0 };
      throw new TemplateError(
        `Line ${line}, column ${column}: a mapping key renders to more than ${MAX_KEY} characters, more than YAML allows in a key; use the secret in a value.`,
      );
    }
  }
  return parsed.tokens.map((token) => CST.stringify(token)).join("");
}

/**
 * Whether a block literal holds the value: not with control characters (yaml double-quotes
 * those), nor with a line of spaces or tabs alone, which a block literal reads as an empty line
 * (yaml 2.9 writes no indentation indicator for it).
 */
function holdsAsBlock(value: string): boolean {
  return !CONTROL.test(value) && !/(^|\n)[ \t]+(\n|$)/.test(value);
}

/**
 * Characters yaml 2.9 writes as they are, even in double quotes, that YAML 1.1 readers do not read
 * back as written: SnakeYAML (under Kestra's Jackson) takes NEL, U+2028 and U+2029 as line breaks
 * (folded to a space in quotes, a new line elsewhere) and refuses DEL, the C1 controls and
 * U+FFFE/U+FFFF as "special characters". A value holding one is written double-quoted, with each
 * of them escaped (`\x85`, `\u2028`), which every YAML version reads back exactly.
 */
const SNAKEYAML_SPECIAL = /[\x7f-\x9f\u2028\u2029\ufffe\uffff]/;
const SNAKEYAML_SPECIAL_ALL = /[\x7f-\x9f\u2028\u2029\ufffe\uffff]/g;

function yamlEscape(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, "0")}`
    : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** YAML's limit on an implicit key (the `? ` form has none, but yaml's CST cannot write it here). */
const MAX_KEY = 1024;

/** The characters yaml writes only in double quotes (its stringifyString's test). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u{D800}-\u{DFFF}]/u;

/** The scalar's own quoting when it holds the value as a string, else double quotes. */
function singleLineType(node: Scalar<string>, value: string): Scalar.Type {
  const type = node.type === "QUOTE_SINGLE" || node.type === "PLAIN" ? node.type : "QUOTE_DOUBLE";
  // Plain `123`, `true` or `null` would read as another type, and `yes`/`on` do for YAML 1.1
  // readers (SnakeYAML, which Kestra's Jackson uses): the property must stay the string.
  if (type === "PLAIN" && !(["1.1", "1.2"] as const).every((version) => readsAsString(value, version)))
    return "QUOTE_DOUBLE";
  return type;
}

function readsAsString(value: string, version: "1.1" | "1.2"): boolean {
  const document = parseDocument(value, { version });
  return document.errors.length === 0 && isScalar(document.contents) && document.contents.value === value;
}

/**
 * Parses the output again and checks every string: the rendered ones hold their exact values,
 * the rest are unchanged. A failure here is Keyway's bug; it is thrown rather than written.
 */
export function verifyRendered(
  out: string,
  format: "yaml" | "json",
  before: ParsedDocument,
  rendered: ReadonlyMap<Scalar<string>, string>,
): void {
  let after: StringScalar[];
  try {
    after = parseStructured(out, format, false).strings;
  } catch (error) {
    if (error instanceof TemplateError && error.message.includes("keys must be unique"))
      throw new TemplateError("Two keys of one mapping render to the same key; give them distinct names.");
    throw error;
  }
  const expected = before.strings.map((s) => rendered.get(s.node) ?? s.node.value);
  const same = after.length === expected.length && after.every((s, i) => s.node.value === expected[i]);
  if (!same)
    throw new TemplateError(
      "Rendering changed the document's structure; please report this as a Keyway bug.",
    );
}
