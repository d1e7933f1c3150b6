/**
 * `@keyway/core/document`: renders the `secret()` calls of a YAML or JSON file per property, as
 * Kestra does after parsing a flow, instead of in the raw text. A value holding quotes, a PEM key
 * or a JSON credential then stays exactly that value: each changed string is written back in a
 * style that holds it (a block literal for several lines, quoted where plain would be misread),
 * and every other byte of the file (comments, key order, anchors, untouched scalars) stays as
 * written. A separate entry, because it loads `yaml`.
 */
import {
  Composer,
  CST,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  parseDocument,
  type Scalar,
  type YAMLError,
} from "yaml";
// From the main entry, not its modules: the bundle keeps this an import of `@keyway/core`'s own
// file (scripts/bundle.mjs), so both entries share one copy of every class.
import {
  type RenderOptions,
  TemplateError,
  type TemplateReference,
  type TemplateRenderer,
  templateReferences,
} from "./internal.js";

/** How a file is read: parsed as YAML or JSON and rendered per string, or rendered as plain text. */
export type DocumentFormat = "yaml" | "json" | "text";

export interface RenderDocumentOptions extends RenderOptions {
  /** @default "text" */
  format?: DocumentFormat | undefined;
}

/** A `secret()` call of a document, with its place in the file. */
export interface DocumentReference extends TemplateReference {
  /** Where the string holding it is: `tasks.0.password` (empty for text and top-level strings). */
  readonly path: string;
}

export interface RenderedDocument {
  readonly text: string;
  /**
   * The calls mode `final` left in place, each inside a larger expression or a statement
   * (`{{ secret('X') | upper }}`): the executor's engine renders them, with the value in hand.
   * Empty in the other modes, which turn every static call into a literal.
   */
  readonly unrendered: readonly DocumentReference[];
}

/** The format a file name implies: `.yaml`/`.yml` and `.json`, else text. */
export function formatOf(fileName: string | undefined): DocumentFormat {
  const extension = /\.([A-Za-z]+)$/.exec(fileName ?? "")?.[1]?.toLowerCase();
  if (extension === "yaml" || extension === "yml") return "yaml";
  return extension === "json" ? "json" : "text";
}

/**
 * Renders a YAML, JSON or text document. YAML and JSON are parsed first; every string scalar
 * (keys too) is rendered with the renderer, all at once (one resolve per distinct secret, every
 * failure in one error), and only the scalars that changed are rewritten.
 * @throws TemplateError for a document that does not parse, naming the line and column
 * @example
 * const { text, unrendered } = await renderDocument(router, flowYaml, { namespace: "company.team", format: "yaml" });
 */
export async function renderDocument(
  renderer: TemplateRenderer,
  text: string,
  options: RenderDocumentOptions,
): Promise<RenderedDocument> {
  const format = options.format ?? "text";
  const { format: _, ...renderOptions } = options;
  if (format === "text") {
    const unrendered = finalLeftovers(textReferences(text), options);
    return { text: (await renderer.renderMany([text], renderOptions))[0] as string, unrendered };
  }
  const parsed = parseStructured(text, format);
  const templated = parsed.strings.filter((s) => /\{\{|\{%/.test(s.node.value));
  const rendered = await renderer.renderMany(
    templated.map((s) => s.node.value),
    renderOptions,
  );
  const changes = templated.flatMap((s, i) =>
    rendered[i] === s.node.value ? [] : [{ ...s, value: rendered[i] as string }],
  );
  const out = format === "json" ? spliceJson(text, changes) : rewriteYaml(parsed, changes);
  verifyRendered(out, format, parsed, new Map(changes.map((c) => [c.node, c.value])));
  return {
    text: out,
    unrendered: finalLeftovers(
      parsed.strings.flatMap((s) => s.references),
      options,
    ),
  };
}

/** The `secret()` calls of a document, each with its line and column in the file. */
export function documentReferences(text: string, format: DocumentFormat): DocumentReference[] {
  return format === "text"
    ? textReferences(text)
    : parseStructured(text, format).strings.flatMap((s) => s.references);
}

/**
 * The flow's own namespace: the top-level `namespace:` of a YAML or JSON document (every document
 * of a multi-document file that has one must agree), else undefined (text has none).
 * @throws TemplateError when the file does not parse, or its documents name different namespaces
 */
export function documentNamespace(text: string, format: DocumentFormat): string | undefined {
  if (format === "text") return undefined;
  const distinct = [...new Set(parseStructured(text, format, false).namespaces)];
  if (distinct.length > 1)
    throw new TemplateError(
      `The documents of this file name ${distinct.length} different namespaces; give the one to use with -n.`,
    );
  return distinct[0];
}

function textReferences(text: string): DocumentReference[] {
  return templateReferences(text).map((reference) => ({ ...reference, path: "" }));
}

function finalLeftovers(references: DocumentReference[], options: RenderOptions): DocumentReference[] {
  return (options.mode ?? "final") === "final" ? references.filter((r) => !r.replacedInFinal) : [];
}

/** One string scalar of the document and what the renderer needs to know of its place. */
interface StringScalar {
  readonly node: Scalar<string>;
  readonly references: DocumentReference[];
  /** Inside a flow collection (`[…]`, `{…}`): no block scalar, no line break. */
  readonly inFlow: boolean;
  /** A mapping key: one line. */
  readonly isKey: boolean;
  /** The value of a block mapping's key: a block scalar is indented under the key. */
  readonly afterKey: boolean;
}

type Place = Pick<StringScalar, "inFlow" | "isKey" | "afterKey">;

interface ParsedDocument {
  readonly tokens: CST.Token[];
  readonly strings: StringScalar[];
  /** Each document's top-level `namespace:`, when it is a string (a Kestra flow's own namespace). */
  readonly namespaces: string[];
}

/** Parses a document; `locateCalls: false` skips finding the calls (checking an output). */
function parseStructured(text: string, format: "yaml" | "json", locateCalls = true): ParsedDocument {
  if (format === "json") assertJson(text);
  const lineCounter = new LineCounter();
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  assertNesting(tokens, lineCounter);
  const composer = new Composer({ keepSourceTokens: true, uniqueKeys: format === "yaml" });
  const documents = [...composer.compose(tokens, true, text.length)];
  const strings: StringScalar[] = [];
  const namespaces: string[] = [];
  for (const document of documents) {
    const error = document.errors[0];
    if (error) throw parseError(format, error, lineCounter);
    const namespace = isMap(document.contents) ? document.contents.get("namespace") : undefined;
    if (typeof namespace === "string") namespaces.push(namespace);
    const top = { inFlow: false, isKey: false, afterKey: false };
    walk(document.contents, [], top, text, lineCounter, (node, path, place) => {
      strings.push({ node, ...place, references: locateCalls ? locate(text, node, path, lineCounter) : [] });
    });
  }
  return { tokens, strings, namespaces };
}

/**
 * Deeper than any flow (SnakeYAML, under Kestra's Jackson, stops at 50 by default), and well
 * under where yaml's composer runs out of stack (about 780 flow levels in a test worker).
 */
const MAX_NESTING = 256;

/**
 * Fails a document nested deeper than {@link MAX_NESTING}, before yaml's composer (recursive)
 * sees it: thousands of levels overflow the stack there, and the second such document in a
 * process killed Node ("RegExpCompiler Allocation failed"). The parser's tokens are walked with
 * an explicit stack, so this check cannot overflow itself.
 */
function assertNesting(tokens: readonly CST.Token[], lineCounter: LineCounter): void {
  const pending: [CST.Token, number][] = tokens.map((token) => [token, 0]);
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [token, depth] = next;
    if (depth > MAX_NESTING) {
      const { line, col } = lineCounter.linePos(token.offset);
      throw new TemplateError(
        `The document is nested more than ${MAX_NESTING} levels deep at line ${line}, column ${col}; flatten it.`,
      );
    }
    if (token.type === "document" && token.value) pending.push([token.value, depth]);
    if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection")
      for (const item of token.items as CST.CollectionItem[]) {
        if (item.key) pending.push([item.key, depth + 1]);
        if (item.value) pending.push([item.value, depth + 1]);
      }
  }
}

function assertJson(text: string): void {
  try {
    JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the fault; the file's own words stay out of errors.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = at === undefined ? "" : ` at offset ${at}`;
    throw new TemplateError(
      `The document is not valid JSON${where}; fix it, or render it with --format text.`,
    );
  }
}

function parseError(format: string, error: YAMLError, lineCounter: LineCounter): TemplateError {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  // The message's first clause, without the source excerpt yaml appends after it.
  const reason = error.message.split(/ at line \d+|:\n/)[0];
  return new TemplateError(
    `The document is not valid ${format.toUpperCase()} at line ${line}, column ${col}: ${reason}.`,
  );
}

type Visit = (node: Scalar<string>, path: string, place: Place) => void;

/** Visits every string scalar under `node` (aliases are their anchor's node, visited there). */
function walk(
  node: unknown,
  path: readonly (string | number)[],
  place: Place,
  text: string,
  lineCounter: LineCounter,
  visit: Visit,
): void {
  if (isAlias(node) || node === null || node === undefined) return;
  if (isScalar(node)) {
    if (typeof node.value === "string") visit(node as Scalar<string>, path.join("."), place);
    return;
  }
  if (isMap(node)) {
    const inFlow = place.inFlow || node.flow === true;
    if (node.flow && text.startsWith("{{", node.range?.[0] ?? -1)) {
      const { line, col } = lineCounter.linePos(node.range?.[0] ?? 0);
      throw new TemplateError(
        `Line ${line}, column ${col}${path.length ? ` (${path.join(".")})` : ""}: an unquoted {{ … }} is a YAML mapping, not a string; quote it, e.g. password: "{{ secret('DB_PASSWORD') }}".`,
      );
    }
    for (const pair of node.items) {
      const name = isScalar(pair.key) ? String(pair.key.value) : "?";
      const at = [...path, name];
      walk(pair.key, at, { inFlow, isKey: true, afterKey: false }, text, lineCounter, visit);
      walk(pair.value, at, { inFlow, isKey: false, afterKey: !inFlow }, text, lineCounter, visit);
    }
    return;
  }
  if (isSeq(node)) {
    const inFlow = place.inFlow || node.flow === true;
    const itemPlace = { inFlow, isKey: false, afterKey: false };
    for (const [index, item] of node.items.entries())
      walk(item, [...path, index], itemPlace, text, lineCounter, visit);
  }
}

/**
 * The scalar's `secret()` calls, placed in the file: each call's source is looked for in the
 * scalar's source text (it is found there unless escapes changed it), else the scalar's start.
 */
function locate(
  text: string,
  node: Scalar<string>,
  path: string,
  lineCounter: LineCounter,
): DocumentReference[] {
  if (!node.value.includes("secret")) return [];
  let references: TemplateReference[];
  const [start, end] = node.range ?? [0, 0];
  try {
    references = templateReferences(node.value);
  } catch (error) {
    const { line, col } = lineCounter.linePos(start);
    throw new TemplateError(
      `Line ${line}, column ${col}${path ? ` (${path})` : ""}: ${(error as Error).message}`,
    );
  }
  const source = text.slice(start, end);
  let from = 0;
  return references.map((reference) => {
    const found = source.indexOf(reference.source, from);
    if (found !== -1) from = found + reference.source.length;
    const { line, col } = lineCounter.linePos(start + Math.max(found, 0));
    return { ...reference, line, column: col, path };
  });
}

interface Change extends StringScalar {
  readonly value: string;
}

function spliceJson(text: string, changes: readonly Change[]): string {
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

function rewriteYaml(parsed: ParsedDocument, changes: readonly Change[]): string {
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
function verifyRendered(
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
