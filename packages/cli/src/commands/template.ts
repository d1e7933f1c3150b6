/** `keyway render` and `keyway check` (registered in program.ts). */
import type { Explanation, SecretsError } from "@keyway/core";
import {
  type DocumentFormat,
  type DocumentReference,
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

export async function render(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: { namespace: string; tenant?: string; mode: string; format?: string; strict?: boolean },
): Promise<void> {
  const format = documentFormat(file, options.format);
  const text = await readInput(io, file);
  await withRouter(io, global, async (router) => {
    const mode = options.mode as "final" | "pebble" | "jinja";
    const rendered = await renderDocument(router, text, {
      namespace: options.namespace,
      tenant: options.tenant,
      mode,
      format,
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
  const where = `${file === undefined || file === "-" ? "<stdin>" : file}:${reference.line}:${reference.column}`;
  const call = reference.key === undefined ? "a secret() call" : `secret('${reference.key}')`;
  const property = reference.path ? ` (${reference.path})` : "";
  return `keyway: warning: ${where}${property}: ${call} is inside a larger expression; --mode final leaves it in place for the executor's engine.\n`;
}

export async function check(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: { namespace: string; tenant?: string; json?: boolean; format?: string },
): Promise<void> {
  const format = documentFormat(file, options.format);
  const text = await readInput(io, file);
  await withRouter(io, global, async (router) => {
    const references = documentReferences(text, format).filter(
      (r): r is DocumentReference & { key: string } => !r.dynamic && r.key !== undefined,
    );
    // All at once, as render does: one tick's misses reach a batching backend as one request.
    const explanations = await Promise.all(
      references.map((reference) =>
        router.explain(
          { key: reference.key, namespace: reference.namespace ?? options.namespace, tenant: options.tenant },
          { caller: options.namespace },
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
      : rows.map((r) => `${r.key}\t${r.namespace || "<root>"}\t${r.backend || "-"}\t${r.status}\n`).join("");
    await write(io.stdout, out);
    if (failures.length) throw new CliError("", exitCodeOf(failures));
  });
}
