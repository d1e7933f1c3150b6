/** `keyway get`, `keyway list`, `keyway expression` (registered in program.ts). */
import type { Router, SecretMetadata, SecretRef } from "@keyway/core";
// `keyway expression` checks the key and namespace it prints, as a backend would.
import { assertKey, assertNamespace } from "@keyway/core/backend";
import { type GlobalOptions, withRouter } from "../context.js";
import { type CliIO, write } from "../io.js";

export async function get(
  io: CliIO,
  global: GlobalOptions,
  key: string,
  options: { namespace: string; tenant?: string; subkey?: string; json?: boolean },
): Promise<void> {
  await withRouter(io, global, async (router) => {
    const ref = { key, namespace: options.namespace, tenant: options.tenant };
    if (options.json)
      return write(io.stdout, `${JSON.stringify(await describe(router, ref, options.subkey))}\n`);
    const value = await router.resolve(ref, { subkey: options.subkey });
    await write(io.stdout, value.isBinary ? value.revealBytes() : value.reveal());
  });
}

/** `get --json`: where a resolve finds the secret and what its backend says of it; never the value. */
async function describe(router: Router, ref: SecretRef, subkey: string | undefined) {
  const where = await router.explain(ref);
  if (where.status !== "found") throw where.error;
  // Served from the cache explain just filled: no second backend call.
  const value = await router.resolve(ref, { subkey });
  return {
    key: ref.key,
    namespace: ref.namespace,
    ...(ref.tenant === undefined ? {} : { tenant: ref.tenant }),
    foundIn: where.namespace,
    backend: where.backend,
    stale: value.stale,
    metadata: jsonMetadata(value.metadata),
  };
}

/** Metadata as JSON: only the fields a backend gave, dates as ISO strings. */
function jsonMetadata(metadata: SecretMetadata): Record<string, unknown> {
  const { description, tags, version, updatedAt } = metadata;
  return Object.fromEntries(
    Object.entries({ description, tags, version, updatedAt: updatedAt?.toISOString() }).filter(
      ([, v]) => v !== undefined,
    ),
  );
}

export async function list(
  io: CliIO,
  global: GlobalOptions,
  options: { namespace: string; tenant?: string; inherited?: boolean; json?: boolean },
): Promise<void> {
  await withRouter(io, global, async (router) => {
    const keys = await router.list(options.namespace, {
      tenant: options.tenant,
      inherited: options.inherited,
    });
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (options.json) {
      const items = keys.map(({ key, namespace, backend, metadata }) => ({
        key,
        namespace,
        backend,
        ...jsonMetadata({ description: metadata.description, tags: metadata.tags }),
      }));
      return write(io.stdout, `${JSON.stringify(items)}\n`);
    }
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
