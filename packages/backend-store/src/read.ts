/** The store's reads: a value (the live version or a kept one), the live version, a namespace's keys. */
import {
  type ChangeListener,
  type GetOptions,
  type ListOptions,
  type SecretListing,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
  type Subscription,
} from "@keyway/core/backend";
import { wrongKey } from "./connection.js";
import type { StoreContext } from "./context.js";
import { unseal } from "./crypto.js";
import type { SecretRow } from "./engine.js";
import { undecryptable } from "./errors.js";
import { bindingOf, storedName, VERSION_PATTERN } from "./names.js";

/** `list` of the store also filters by key prefix. */
export interface StoreListOptions extends ListOptions {
  /** Only keys starting with this. */
  prefix?: string | undefined;
}

/** A secret's metadata at `version`. */
export const metadataOf = (secret: SecretRow, version: number): SecretValue["metadata"] => ({
  description: secret.description,
  tags: secret.tags,
  version: String(version),
  updatedAt: new Date(secret.updatedAt),
});

/** Reads and decrypts the live version, or `options.version` (one query; the data key unwrapped once per version). */
export async function readValue(
  ctx: StoreContext,
  ref: SecretRef,
  options: GetOptions,
): Promise<SecretValue> {
  let version: number | undefined;
  if (options.version !== undefined) {
    if (!VERSION_PATTERN.test(options.version)) throw new SecretNotFoundError(ref.key, { backend: ctx.name });
    version = Number(options.version);
  }
  const { engine, key, storeId, dataKeys } = await ctx.open(options.signal);
  const found = await ctx.until(
    engine.read(storedName(ref), version),
    options.signal,
    `Reading '${ref.key}'`,
  );
  if (!found) throw new SecretNotFoundError(ref.key, { backend: ctx.name });
  const { secret, row } = found;
  if (row.kekId !== key.id) throw wrongKey(ctx.name, key, row.kekId);
  let plaintext: Buffer;
  try {
    plaintext = unseal(key.bytes, bindingOf(storeId, ref, row.version), row, dataKeys);
  } catch {
    throw undecryptable(ref.key, row.version, ctx.name);
  }
  const metadata = metadataOf(secret, row.version);
  return row.binary
    ? SecretValue.fromBytes(plaintext, metadata)
    : SecretValue.fromText(plaintext.toString("utf8"), metadata);
}

/** The live version's number. */
export async function currentVersion(
  ctx: StoreContext,
  ref: SecretRef,
  signal?: AbortSignal,
): Promise<string> {
  const { engine } = await ctx.open(signal);
  const current = await ctx.until(engine.current(storedName(ref)), signal, `Reading '${ref.key}'`);
  if (current === undefined) throw new SecretNotFoundError(ref.key, { backend: ctx.name });
  return String(current);
}

/** The live secrets of a namespace (and tenant), keys starting with `options.prefix`. */
export async function listKeys(
  ctx: StoreContext,
  namespace: string,
  options: StoreListOptions,
): Promise<SecretListing[]> {
  const { engine } = await ctx.open(options.signal);
  const rows = await ctx.until(
    engine.list(options.tenant ?? "", namespace, options.prefix ?? ""),
    options.signal,
    `Listing '${namespace}'`,
  );
  return rows.map(({ key, secret }) => ({ key, metadata: metadataOf(secret, secret.currentVersion) }));
}

/** Pushes every change committed from now on (names and versions, never a value) to `listener`. */
export async function subscribeChanges(
  ctx: StoreContext,
  listener: ChangeListener,
  signal?: AbortSignal,
): Promise<Subscription> {
  const { engine } = await ctx.open(signal);
  const stop = await engine.subscribe(
    (c) =>
      listener.change({
        namespace: c.namespace,
        key: c.key,
        tenant: c.tenant === "" ? undefined : c.tenant,
        version: c.version === undefined ? undefined : String(c.version),
        deleted: c.deleted || undefined,
      }),
    (error) => listener.lost(error),
  );
  return { close: stop };
}
