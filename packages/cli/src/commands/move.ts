/**
 * `keyway copy` and `keyway import`: move secrets into a writable namespace. Each key is planned
 * as create / skip / overwrite; `--dry-run` prints the plan only. Values pass through memory only.
 * A failure in the middle leaves every finished key in place, and a re-run skips them.
 * Registered in program.ts.
 */
import type { Router, SecretsError, SecretValue } from "@keyway/core";
import { isSecretsError } from "@keyway/core";
// Reference checks for the namespaces given on the command line, before any plan or write.
import { assertNamespace, type PutMetadata } from "@keyway/core/backend";
import { type GlobalOptions, withRouter } from "../context.js";
import { parseDotenv } from "../dotenv.js";
import { exitCodeFor } from "../exit-codes.js";
import { CliError, type CliIO, EXIT, exitCodeOf, readInput, write } from "../io.js";
import { createProgress } from "../progress.js";

interface Item {
  readonly key: string;
  readonly metadata: PutMetadata;
  read(): Promise<string | Uint8Array>;
}

interface MoveOptions {
  namespace: string;
  tenant?: string;
  dryRun?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

type Action = "create" | "skip" | "overwrite";

/** Whether `key` is stored in exactly `namespace` (an inherited value does not count). */
async function existsAt(router: Router, key: string, namespace: string, tenant?: string): Promise<boolean> {
  // The destination's own level only: ancestors (and their backends' failures) are not its question.
  const where = await router.explain({ key, namespace, tenant }, { inherit: false });
  if (where.status === "found") return where.namespace === namespace;
  if (where.status === "missing") return false;
  throw (
    where.error ?? new CliError(`Cannot tell whether '${key}' exists in '${namespace}'.`, EXIT.unavailable)
  );
}

/**
 * Fails once, before any plan or write, when the destination cannot be written (no rule, a read-only
 * rule, a backend without writes): a dry run must not promise writes the real run would refuse, and
 * the real run must not fail the same way once per key.
 */
function assertDestination(router: Router, options: MoveOptions): void {
  try {
    router.assertWritable(options.namespace, options.tenant);
  } catch (error) {
    if (!isSecretsError(error)) throw error;
    throw new CliError(`${error.message} Nothing was written.`, exitCodeFor(error.code));
  }
}

async function move(router: Router, items: readonly Item[], options: MoveOptions, io: CliIO): Promise<void> {
  const plan: Array<{ item: Item; action: Action }> = [];
  for (const item of items) {
    const exists = await existsAt(router, item.key, options.namespace, options.tenant);
    plan.push({ item, action: !exists ? "create" : options.overwrite ? "overwrite" : "skip" });
  }
  if (options.dryRun) {
    if (!options.json) await write(io.stdout, plan.map((p) => `${p.action}\t${p.item.key}\n`).join(""));
    return summarize(io, plan, [], options);
  }
  const failures: Array<{ key: string; error: SecretsError }> = [];
  // With --json, stderr stays quiet: the document says everything.
  const progress = createProgress(options.json ? undefined : io.stderr, plan.length, "copying");
  for (const { item, action } of plan) {
    progress.step(item.key);
    if (action === "skip") continue;
    try {
      await router.put(
        { key: item.key, namespace: options.namespace, tenant: options.tenant },
        await item.read(),
        item.metadata,
      );
    } catch (error) {
      if (!isSecretsError(error)) throw error;
      failures.push({ key: item.key, error });
    }
  }
  progress.done();
  return summarize(io, plan, failures, options);
}

/** Prints the counts (and each failure) as text on stderr, or with --json as one document on stdout. */
async function summarize(
  io: CliIO,
  plan: ReadonlyArray<{ item: Item; action: Action }>,
  failures: ReadonlyArray<{ key: string; error: SecretsError }>,
  options: MoveOptions,
): Promise<void> {
  const failed = new Map(failures.map((f) => [f.key, f.error]));
  const succeeded = (action: Action) =>
    plan.filter((p) => p.action === action && !failed.has(p.item.key)).length;
  const counts = {
    created: succeeded("create"),
    overwritten: succeeded("overwrite"),
    skipped: succeeded("skip"),
    failed: failed.size,
  };
  if (options.json) {
    const keys = plan.map(({ item, action }) => {
      const error = failed.get(item.key);
      const status = options.dryRun ? "planned" : error ? "failed" : "done";
      return { key: item.key, action, status, ...(error ? { error: error.message } : {}) };
    });
    const document = { dryRun: options.dryRun === true, namespace: options.namespace, keys, ...counts };
    await write(io.stdout, `${JSON.stringify(document)}\n`);
  } else {
    const would = options.dryRun ? "would be " : "";
    const lines = [
      `${would}created ${counts.created}, ${would}overwritten ${counts.overwritten}, skipped ${counts.skipped} existing${counts.failed ? `, failed ${counts.failed}` : ""}.`,
      ...failures.map((f) => `failed ${f.key}: ${f.error.message}`),
    ];
    await write(io.stderr, `${lines.join("\n")}\n`);
  }
  if (failures.length) throw new CliError("", exitCodeOf(failures.map((f) => f.error)));
}

function plaintextOf(value: SecretValue): string | Uint8Array {
  return value.isBinary ? value.revealBytes() : value.reveal();
}

export async function copy(
  io: CliIO,
  global: GlobalOptions,
  options: {
    fromNamespace: string;
    toNamespace: string;
    tenant?: string;
    dryRun?: boolean;
    overwrite?: boolean;
    json?: boolean;
  },
): Promise<void> {
  assertNamespace(options.fromNamespace);
  assertNamespace(options.toNamespace);
  await withRouter(io, global, async (router) => {
    // Before the source is read: listing and reading it may be paid calls.
    assertDestination(router, { namespace: options.toNamespace, tenant: options.tenant });
    const listed = await router.list(options.fromNamespace, { tenant: options.tenant });
    const items: Item[] = listed.map((l) => ({
      key: l.key,
      metadata: { description: l.metadata.description, tags: l.metadata.tags },
      read: async () =>
        plaintextOf(
          await router.resolve({
            key: l.key,
            namespace: options.fromNamespace,
            tenant: options.tenant,
          }),
        ),
    }));
    await move(router, items, { ...options, namespace: options.toNamespace }, io);
  });
}

/** `keyway import` (`import` is a reserved word). */
export async function importDotenv(
  io: CliIO,
  global: GlobalOptions,
  file: string,
  options: MoveOptions,
): Promise<void> {
  assertNamespace(options.namespace);
  const { entries, problems } = parseDotenv(await readInput(io, file));
  if (problems.length)
    throw new CliError(problems.map((p) => `line ${p.line}: ${p.message}`).join("\n"), EXIT.invalid);
  await withRouter(io, global, (router) => {
    assertDestination(router, options);
    return move(
      router,
      entries.map((e) => ({ key: e.key, metadata: {}, read: async () => e.value })),
      options,
      io,
    );
  });
}
