/** `keyway put` (value from stdin, never argv) and `keyway delete` (registered in program.ts). */
import { type GlobalOptions, withRouter } from "../context.js";
import { CliError, type CliIO, readAll } from "../io.js";

export async function put(
  io: CliIO,
  global: GlobalOptions,
  key: string,
  options: {
    namespace: string;
    tenant?: string;
    description?: string;
    tag: Record<string, string>;
    trimNewline?: boolean;
  },
): Promise<void> {
  if (io.stdin.isTTY)
    throw new CliError('Pipe the value on stdin, e.g. `printf %s "$VALUE" | keyway put KEY -n NS`.');
  let bytes = await readAll(io.stdin);
  if (options.trimNewline && bytes.at(-1) === 0x0a)
    bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
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
