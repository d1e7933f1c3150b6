/** `keyway put` (value from stdin, never argv) and `keyway delete`. */
import type { Command } from "commander";
import { withRouter } from "../context.js";
import { CliError, type CliIO, readAll } from "../io.js";

function collectTag(value: string, tags: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0) throw new CliError(`--tag takes key=value, e.g. --tag team=payments.`);
  tags[value.slice(0, eq)] = value.slice(eq + 1);
  return tags;
}

export function registerWriteCommands(program: Command, io: CliIO): void {
  program
    .command("put")
    .description("write a secret; the value is read from stdin, byte for byte (argv shows in `ps`)")
    .argument("<key>", "the secret's key")
    .requiredOption("-n, --namespace <ns>", "the namespace to write to")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--description <text>", "a description")
    .option("--tag <key=value>", "a tag (repeatable)", collectTag, {})
    .option("--trim-newline", "drop one trailing newline from stdin")
    .action(
      async (
        key: string,
        options: {
          namespace: string;
          tenant?: string;
          description?: string;
          tag: Record<string, string>;
          trimNewline?: boolean;
        },
      ) => {
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
        await withRouter(io, program.opts(), (router) =>
          router.put({ key, namespace: options.namespace, tenant: options.tenant }, value, {
            description: options.description,
            tags: Object.keys(options.tag).length ? options.tag : undefined,
          }),
        );
      },
    );

  program
    .command("delete")
    .description("delete a secret")
    .argument("<key>", "the secret's key")
    .requiredOption("-n, --namespace <ns>", "the namespace")
    .option("-t, --tenant <tenant>", "the tenant")
    .action(async (key: string, options: { namespace: string; tenant?: string }) => {
      await withRouter(io, program.opts(), (router) =>
        router.delete({ key, namespace: options.namespace, tenant: options.tenant }),
      );
    });
}
