/** `keyway render` and `keyway check` (registered in program.ts). */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Explanation, SecretsError } from "@keyway/core";
import { type GlobalOptions, withRouter } from "../context.js";
import { CliError, type CliIO, EXIT, exitCodeOf, readAll, write } from "../io.js";

/** Reads FILE, or stdin for `-` or no file. */
export async function readInput(io: CliIO, file: string | undefined): Promise<string> {
  if (file === undefined || file === "-") return (await readAll(io.stdin)).toString("utf8");
  try {
    return await readFile(path.resolve(io.cwd, file), "utf8");
  } catch (error) {
    throw new CliError(`Cannot read ${file}: ${(error as { code?: string }).code ?? "error"}.`, EXIT.invalid);
  }
}

export async function render(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: { namespace: string; tenant?: string; mode: string },
): Promise<void> {
  const text = await readInput(io, file);
  await withRouter(io, global, async (router) => {
    const mode = options.mode as "final" | "pebble" | "jinja";
    await write(
      io.stdout,
      await router.render(text, { namespace: options.namespace, tenant: options.tenant, mode }),
    );
  });
}

export async function check(
  io: CliIO,
  global: GlobalOptions,
  file: string | undefined,
  options: { namespace: string; tenant?: string; json?: boolean },
): Promise<void> {
  const text = await readInput(io, file);
  await withRouter(io, global, async (router) => {
    const rows: Array<
      { key: string; line: number; column: number } & Omit<Explanation, "error"> & { reason?: string }
    > = [];
    const failures: SecretsError[] = [];
    for (const reference of router.references(text)) {
      if (reference.dynamic || reference.key === undefined) continue;
      const explanation = await router.explain(
        {
          key: reference.key,
          namespace: reference.namespace ?? options.namespace,
          tenant: options.tenant,
        },
        { caller: options.namespace },
      );
      const { error, ...rest } = explanation;
      if (error) failures.push(error);
      rows.push({
        key: reference.key,
        line: reference.line,
        column: reference.column,
        ...rest,
        ...(error ? { reason: error.message } : {}),
      });
    }
    const out = options.json
      ? `${JSON.stringify({ references: rows }, null, 2)}\n`
      : rows.map((r) => `${r.key}\t${r.namespace || "<root>"}\t${r.backend || "-"}\t${r.status}\n`).join("");
    await write(io.stdout, out);
    if (failures.length) throw new CliError("", exitCodeOf(failures));
  });
}
