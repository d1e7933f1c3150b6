/** `keyway get`, `keyway list`, `keyway expression` (registered in program.ts). */
import { assertKey, assertNamespace } from "@keyway/core";
import { type GlobalOptions, withRouter } from "../context.js";
import { type CliIO, write } from "../io.js";

export async function get(
  io: CliIO,
  global: GlobalOptions,
  key: string,
  options: { namespace: string; tenant?: string; subkey?: string },
): Promise<void> {
  await withRouter(io, global, async (router) => {
    const value = await router.resolve(
      { key, namespace: options.namespace, tenant: options.tenant },
      { subkey: options.subkey },
    );
    await write(io.stdout, value.isBinary ? value.revealBytes() : value.reveal());
  });
}

export async function list(
  io: CliIO,
  global: GlobalOptions,
  options: { namespace: string; tenant?: string; inherited?: boolean },
): Promise<void> {
  await withRouter(io, global, async (router) => {
    const keys = await router.list(options.namespace, {
      tenant: options.tenant,
      inherited: options.inherited,
    });
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const lines = keys.map((k) => (options.inherited ? `${k.key}\t${k.namespace || "<root>"}` : k.key));
    await write(io.stdout, lines.map((l) => `${l}\n`).join(""));
  });
}

export async function expression(
  io: CliIO,
  _global: GlobalOptions,
  key: string,
  options: { namespace?: string },
): Promise<void> {
  assertKey(key);
  if (options.namespace !== undefined) assertNamespace(options.namespace);
  const ns = options.namespace === undefined ? "" : `, namespace='${options.namespace}'`;
  await write(io.stdout, `{{ secret('${key}'${ns}) }}\n`);
}
