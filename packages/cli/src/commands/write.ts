/** `keyway put` (value from stdin, never argv) and `keyway delete` (registered in program.ts). */
import { type GlobalOptions, withRouter } from "../context.js";
import { CliError, type CliIO, EXIT, readAll, write } from "../io.js";

export async function put(
  io: CliIO,
  global: GlobalOptions,
  key: string,
  options: {
    namespace: string;
    tenant?: string;
    description?: string;
    tag: Record<string, string>;
    stripNewline?: boolean;
    /** The old name of `--strip-newline`, kept working. */
    trimNewline?: boolean;
    allowEmpty?: boolean;
  },
): Promise<void> {
  if (io.stdin.isTTY)
    throw new CliError('Pipe the value on stdin, e.g. `printf %s "$VALUE" | keyway put KEY -n NS`.');
  let bytes = await readAll(io.stdin);
  // `echo "$V" | keyway put` adds a line break the user rarely means to store: drop it on request,
  // else say so (never showing the value) so the choice is a deliberate one.
  const endsWithNewline = bytes.at(-1) === 0x0a;
  if (endsWithNewline && (options.stripNewline || options.trimNewline))
    bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
  else if (endsWithNewline)
    await write(
      io.stderr,
      "keyway: note: the value read from stdin ends with a line break (kept); use --strip-newline to drop it, or printf %s instead of echo.\n",
    );
  // An empty stdin is nearly always a mistake (an unset variable, a failed command before the pipe).
  if (bytes.length === 0 && !options.allowEmpty)
    throw new CliError(
      "The value read from stdin was empty; nothing was written. Pass --allow-empty to store an empty secret.",
      EXIT.invalid,
    );
  const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let value: string | Uint8Array;
  try {
    value = text.decode(bytes);
  } catch {
    value = bytes; // not UTF-8: stored as binary
  }
  await withRouter(io, global, (router) =>
    router.put({ key, namespace: options.namespace, tenant: options.tenant }, value, {
      description: options.description,
      tags: Object.keys(options.tag).length ? options.tag : undefined,
    }),
  );
}

/** `keyway delete` (`delete` is a reserved word). */
export async function remove(
  io: CliIO,
  global: GlobalOptions,
  key: string,
  options: { namespace: string; tenant?: string },
): Promise<void> {
  await withRouter(io, global, (router) =>
    router.delete({ key, namespace: options.namespace, tenant: options.tenant }),
  );
}
