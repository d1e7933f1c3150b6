/**
 * The writes that read first: PATCH's metadata rewrite and the console's Create. Each is a
 * compare-and-set where the namespace's backend has `capabilities.compareAndSet`, so a write that
 * slips in between the read and the write is a ConflictError (409), never a lost update; without
 * it, the read-then-write is the best the backend allows (last writer wins).
 */
import { ConflictError, isSecretsError, type SecretRef, type SecretValue } from "@keyway/core";
import type { PutMetadata } from "@keyway/core/backend";
import type { ServeContext } from "./http/exchange.js";

/** What PATCH changes: a field given is replaced, a field left out is kept. */
export interface MetadataChanges {
  readonly description?: string | undefined;
  readonly tags?: ReadonlyArray<{ readonly key: string; readonly value: string }> | undefined;
}

/** True when the backend serving the ref's namespace honours `ifVersion`. */
function comparesAndSets(context: ServeContext, ref: SecretRef): boolean {
  const backend = context.router.ruleFor(ref.namespace, ref.tenant)?.backend;
  return backend !== undefined && context.backends[backend]?.capabilities.compareAndSet === true;
}

/** The namespace's own secret as its backend has it now (not a cached copy); its value stays here. */
function readCurrent(context: ServeContext, ref: SecretRef): Promise<SecretValue> {
  context.router.invalidate(ref);
  return context.router.resolve(ref, { inherit: false });
}

/**
 * Rewrites a secret's metadata with its current value: read here (never sent anywhere), written
 * back with the fields given replaced and the others kept, at the version read when the backend
 * can compare-and-set. The namespace's own secret only, not an inherited one: editing that would
 * create a copy here.
 * @throws SecretNotFoundError when the namespace has no such secret; ConflictError when it changed
 * between the read and the write
 */
export async function patchMetadata(
  context: ServeContext,
  ref: SecretRef,
  changes: MetadataChanges,
): Promise<void> {
  context.router.assertWritable(ref.namespace, ref.tenant);
  const current = await readCurrent(context, ref);
  const description = "description" in changes ? changes.description : current.metadata.description;
  const tags =
    changes.tags === undefined
      ? current.metadata.tags
      : Object.fromEntries(changes.tags.map((t) => [t.key, t.value]));
  const atVersion = comparesAndSets(context, ref);
  // A backend that compares and sets but reported no version: refused rather than written blind.
  if (atVersion && current.metadata.version === undefined)
    throw new ConflictError(
      `Secret '${ref.key}' was read without a version to compare-and-set with; nothing was written.`,
    );
  await context.router.put(
    ref,
    current.isBinary ? current.revealBytes() : current.reveal(),
    { description, tags },
    { ifVersion: atVersion ? current.metadata.version : undefined },
  );
}

/**
 * Creates a secret that must not exist yet: `ifVersion: ""` where the backend compares and sets,
 * else a read first (a write racing that read can still win: the backend allows no better).
 * @throws ConflictError when the key exists in the namespace (an inherited one does not count)
 */
export async function createSecret(
  context: ServeContext,
  ref: SecretRef,
  value: string,
  metadata: PutMetadata,
): Promise<void> {
  context.router.assertWritable(ref.namespace, ref.tenant);
  const exists = (cause?: unknown) =>
    new ConflictError(
      `Secret '${ref.key}' already exists in namespace '${ref.namespace}'; nothing was written.`,
      { cause },
    );
  if (comparesAndSets(context, ref)) {
    try {
      await context.router.put(ref, value, metadata, { ifVersion: "" });
    } catch (error) {
      // With ifVersion "" a conflict means one thing: the key is there.
      throw isSecretsError(error) && error.code === "CONFLICT" ? exists(error) : error;
    }
    return;
  }
  try {
    await readCurrent(context, ref);
  } catch (error) {
    if (!isSecretsError(error) || error.code !== "NOT_FOUND") throw error; // denied, unavailable: say so
    await context.router.put(ref, value, metadata);
    return;
  }
  throw exists();
}
