/**
 * `@keyway/core/document`: renders the `secret()` calls of a YAML or JSON file per property, as
 * Kestra does after parsing a flow, instead of in the raw text. A value holding quotes, a PEM key
 * or a JSON credential then stays exactly that value: each changed string is written back in a
 * style that holds it (a block literal for several lines, quoted where plain would be misread),
 * and every other byte of the file (comments, key order, anchors, untouched scalars) stays as
 * written. A separate entry, because it loads `yaml`.
 */
// From the main entry, not its modules: the bundle keeps this an import of `@keyway/core`'s own
// file (scripts/bundle.mjs), so both entries share one copy of every class.

import { type DocumentReference, parseStructured } from "./document/parse.js";
import { rewriteYaml, spliceJson, verifyRendered } from "./document/write.js";
import { type RenderOptions, TemplateError, type TemplateRenderer, templateReferences } from "./internal.js";

export type { DocumentReference } from "./document/parse.js";

/** How a file is read: parsed as YAML or JSON and rendered per string, or rendered as plain text. */
export type DocumentFormat = "yaml" | "json" | "text";

export interface RenderDocumentOptions extends RenderOptions {
  /** @default "text" */
  format?: DocumentFormat | undefined;
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
