/** `keyway get`, `keyway list`, `keyway expression`. */
import { assertKey, assertNamespace } from "@keyway/core";
import type { Command } from "commander";
import { withRouter } from "../context.js";
import { type CliIO, write } from "../io.js";

export function registerReadCommands(program: Command, io: CliIO): void {
  program
    .command("get")
    .description("print a secret's value exactly (no trailing newline)")
    .argument("<key>", "the secret's key")
    .option("-n, --namespace <ns>", "the namespace to read from (its ancestors are searched too)", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("-s, --subkey <subkey>", "a top-level key of a JSON value")
    .action(async (key: string, options: { namespace: string; tenant?: string; subkey?: string }) => {
      await withRouter(io, program.opts(), async (router) => {
        const value = await router.resolve(
          { key, namespace: options.namespace, tenant: options.tenant },
          { subkey: options.subkey },
        );
        await write(io.stdout, value.isBinary ? value.revealBytes() : value.reveal());
      });
    });

  program
    .command("list")
    .description("list key names, sorted, one a line (never values)")
    .option("-n, --namespace <ns>", "the namespace", "")
    .option("-t, --tenant <tenant>", "the tenant")
    .option("--inherited", "also keys inherited from ancestors, with the namespace each comes from")
    .action(async (options: { namespace: string; tenant?: string; inherited?: boolean }) => {
      await withRouter(io, program.opts(), async (router) => {
        const keys = await router.list(options.namespace, {
          tenant: options.tenant,
          inherited: options.inherited,
        });
        keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
        const lines = keys.map((k) => (options.inherited ? `${k.key}\t${k.namespace || "<root>"}` : k.key));
        await write(io.stdout, lines.map((l) => `${l}\n`).join(""));
      });
    });

  program
    .command("expression")
    .description("print the template expression for a key")
    .argument("<key>", "the secret's key")
    .option("-n, --namespace <ns>", "read from another namespace (namespace='…')")
    .action(async (key: string, options: { namespace?: string }) => {
      assertKey(key);
      if (options.namespace !== undefined) assertNamespace(options.namespace);
      const ns = options.namespace === undefined ? "" : `, namespace='${options.namespace}'`;
      await write(io.stdout, `{{ secret('${key}'${ns}) }}\n`);
    });
}
