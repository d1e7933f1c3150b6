/**
 * Reading a YAML or JSON document for rendering: its string scalars (keys too), where each sits
 * (flow, key, block value), the `secret()` calls each holds with line, column and property path,
 * and each document's `namespace:`. Refuses what Kestra's parser would (nesting past a bound,
 * JSON that is not JSON), naming line and column.
 */
import {
  Composer,
  type CST,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  Parser,
  type Scalar,
  type YAMLError,
} from "yaml";
// From the main entry, not its modules (see ../document.ts).
import { TemplateError, type TemplateReference, templateReferences } from "../internal.js";

/** A `secret()` call of a document, with its place in the file. */
export interface DocumentReference extends TemplateReference {
  /** Where the string holding it is: `tasks.0.password` (empty for text and top-level strings). */
  readonly path: string;
}

/** One string scalar of the document and what the renderer needs to know of its place. */
export interface StringScalar {
  readonly node: Scalar<string>;
  readonly references: DocumentReference[];
  /** Inside a flow collection (`[…]`, `{…}`): no block scalar, no line break. */
  readonly inFlow: boolean;
  /** A mapping key: one line. */
  readonly isKey: boolean;
  /** The value of a block mapping's key: a block scalar is indented under the key. */
  readonly afterKey: boolean;
}

export type Place = Pick<StringScalar, "inFlow" | "isKey" | "afterKey">;

export interface ParsedDocument {
  readonly tokens: CST.Token[];
  readonly strings: StringScalar[];
  /** Each document's top-level `namespace:`, when it is a string (a Kestra flow's own namespace). */
  readonly namespaces: string[];
}

/** Parses a document; `locateCalls: false` skips finding the calls (checking an output). */
export function parseStructured(text: string, format: "yaml" | "json", locateCalls = true): ParsedDocument {
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
