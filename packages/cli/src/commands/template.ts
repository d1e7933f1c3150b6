/** `keyway render` and `keyway check` (registered in program.ts). */
import { type Explanation, type SecretsError, TemplateError } from "@keyway/core";
import {
  type DocumentFormat,
  type DocumentReference,
  documentNamespace,
  documentReferences,
  formatOf,
  renderDocument,
} from "@keyway/core/document";
import { type GlobalOptions, withRouter } from "../context.js";
import { CliError, type CliIO, EXIT, exitCodeOf, readInput, write } from "../io.js";

/** `--format`, else the file's extension; stdin is text unless told. */
function documentFormat(file: string | undefined, format: string | undefined): DocumentFormat {
  if (format === undefined) return file === undefined || file === "-" ? "text" : formatOf(file);
  if (format === "yaml" || format === "json" || format === "text") return format;
  throw new CliError(`Unknown --format '${format}': use yaml, json or text.`, EXIT.invalid);
}

/** The input's name in messages: the file as given, or `<stdin>`. */
const nameOf = (file: string | undefined) => (file === undefined || file === "-" ? "<stdin>" : file);

/**
 * `-n`, else the flow's own top-level `namespace:` (a Kestra flow says which namespace it runs
 * in); a `-n` that differs from it is used, with a warning, since it is usually a mistake.
 */
async function flowNamespace(
  io: CliIO,
  file: string | undefined,
  text: string,
  format: DocumentFormat,
  given: string | undefined,
): Promise<string> {
  const own = inFile(file, () => documentNamespace(text, format));
  if (given === undefined) {
    if (own === undefined)
      throw new CliError(
        `${nameOf(file)} has no top-level 'namespace:'; give the namespace to render for with -n NS.`,
      );
    return own;
  }
  if (own !== undefined && own !== given)
    await write(
      io.stderr,
      `keyway: warning: ${nameOf(file)} is a flow of namespace '${own}', but -n says '${given}'; resolving as '${given}'.\n`,
    );
  return given;
}

/** Runs `body`; a document error (it names a line and column) also names the file. */
function inFile<T>(file: string | undefined, body: () => T): T {
  try {
    return body();
  } catch (error) {
    throw named(file, error);
  }
}

function named(file: string | undefined, error: unknown): unknown {
  return error instanceof TemplateError ? new TemplateError(`${nameOf(file)}: ${error.message}`) : error;
}

export async function render(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: {
    namespace?: string;
    tenant?: string;
    mode: string;
    format?: string;
    strict?: boolean;
    allowTemplateValues?: boolean;
  },
): Promise<void> {
  const format = documentFormat(file, options.format);
  const text = await readInput(io, file);
  const namespace = await flowNamespace(io, file, text, format, options.namespace);
  await withRouter(io, global, async (router) => {
    const mode = options.mode as "final" | "pebble" | "jinja";
    const rendered = await renderDocument(router, text, {
      namespace,
      tenant: options.tenant,
      mode,
      format,
      allowTemplateSyntax: options.allowTemplateValues,
    }).catch((error: unknown) => {
      throw named(file, error);
    });
    for (const reference of rendered.unrendered) await write(io.stderr, leftInPlace(file, reference));
    // Nothing is written when --strict fails: a half-rendered file must not reach the executor.
    if (options.strict && rendered.unrendered.length > 0)
      throw new CliError(
        `${rendered.unrendered.length} secret() call(s) left in place (--strict); use --mode pebble or jinja to hand them to the engine as literals.`,
        EXIT.invalid,
      );
    await write(io.stdout, rendered.text);
  });
}

/** The warning for a call `final` leaves for the engine: where it is, never a value. */
function leftInPlace(file: string | undefined, reference: DocumentReference): string {
  const where = `${nameOf(file)}:${reference.line}:${reference.column}`;
  const call = reference.key === undefined ? "a secret() call" : `secret('${reference.key}')`;
  const property = reference.path ? ` (${reference.path})` : "";
  return `keyway: warning: ${where}${property}: ${call} is inside a larger expression; --mode final leaves it in place for the executor's engine.\n`;
}

export async function check(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: { namespace?: string; tenant?: string; json?: boolean; format?: string },
): Promise<void> {
  const format = documentFormat(file, options.format);
  const text = await readInput(io, file);
  const namespace = await flowNamespace(io, file, text, format, options.namespace);
  await withRouter(io, global, async (router) => {
    const references = inFile(file, () => documentReferences(text, format)).filter(
      (r): r is DocumentReference & { key: string } => !r.dynamic && r.key !== undefined,
    );
    // All at once, as render does: one tick's misses reach a batching backend as one request.
    const explanations = await Promise.all(
      references.map((reference) =>
        router.explain(
          { key: reference.key, namespace: reference.namespace ?? namespace, tenant: options.tenant },
          { caller: namespace },
        ),
      ),
    );
    const failures: SecretsError[] = [];
    const rows = references.map((reference, i) => {
      const { error, ...rest } = explanations[i] as Explanation;
      if (error) failures.push(error);
      return {
        key: reference.key,
        line: reference.line,
        column: reference.column,
        ...(reference.path ? { path: reference.path } : {}),
        ...rest,
        ...(error ? { reason: error.message } : {}),
      };
    });
    const out = options.json
      ? `${JSON.stringify({ references: rows }, null, 2)}\n`
      : rows.map((r) => `${checkLine(file, r)}\n`).join("");
    await write(io.stdout, out);
    if (failures.length) throw new CliError("", exitCodeOf(failures));
  });
}

/** One reference of `check`'s text output: where it is, what it reads, its status and why. */
function checkLine(
  file: string | undefined,
  row: {
    key: string;
    line: number;
    column: number;
    namespace: string;
    backend: string;
    status: string;
    reason?: string;
  },
): string {
  const fields = [
    `${nameOf(file)}:${row.line}:${row.column}`,
    row.key,
    row.namespace || "<root>",
    row.backend || "-",
    row.status,
  ];
  // "missing" says it all; invalid, denied, disabled and unavailable say why.
  const why = row.reason !== undefined && row.status !== "missing" ? [row.reason] : [];
  return [...fields, ...why].join("\t");
}
