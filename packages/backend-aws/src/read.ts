/**
 * Reads: one secret (`GetSecretValue`), many (`BatchGetSecretValue`, 20 ids a call, chunks in
 * parallel), listings (`ListSecrets`, every page) and the current version (`DescribeSecret`).
 */
import type {
  BatchGetSecretValueCommandOutput,
  Filter,
  SecretListEntry,
} from "@aws-sdk/client-secrets-manager";
import {
  BackendUnavailableError,
  type GetManyResult,
  InvalidReferenceError,
  InvalidSecretValueError,
  isSecretsError,
  SecretNotFoundError,
  type SecretRef,
  type SecretsError,
  SecretValue,
} from "@keyway/core/backend";
import type { Call } from "./client.js";
import { batchEntryError, mapAwsError } from "./errors.js";

/** What every read and write needs. */
export interface Context {
  readonly backend: string;
  readonly call: Call;
  /** Credentials to scrub from every error. */
  readonly secrets: readonly string[];
}

/** `BatchGetSecretValue` takes at most 20 ids with `SecretIdList`. */
export const BATCH_SIZE = 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A version option as AWS input: a UUID is a `VersionId` (what `metadata.version` returns), anything
 * else a staging label (`AWSCURRENT`, `AWSPREVIOUS`, a custom one).
 * @throws InvalidReferenceError before any call when it cannot be either.
 */
export function versionInput(version: string | undefined): { VersionId?: string; VersionStage?: string } {
  if (version === undefined) return {};
  if (typeof version !== "string" || !/^[\x21-\x7e]{1,256}$/.test(version)) {
    throw new InvalidReferenceError(
      "Invalid version: use a VersionId (UUID) or a staging label such as AWSPREVIOUS.",
    );
  }
  return UUID.test(version) ? { VersionId: version } : { VersionStage: version };
}

interface ValueFields {
  SecretString?: string | undefined;
  SecretBinary?: Uint8Array | undefined;
  VersionId?: string | undefined;
  CreatedDate?: Date | undefined;
}

/** A value as AWS returned it: `SecretBinary` stays bytes, never decoded into text. */
export function toSecretValue(fields: ValueFields, key: string, backend: string): SecretValue {
  const metadata = { version: fields.VersionId, updatedAt: fields.CreatedDate };
  if (fields.SecretBinary !== undefined) return SecretValue.fromBytes(fields.SecretBinary, metadata);
  if (fields.SecretString !== undefined) return SecretValue.fromText(fields.SecretString, metadata);
  throw new InvalidSecretValueError(`Secret '${key}' has neither SecretString nor SecretBinary.`, {
    backend,
  });
}

export async function readSecret(
  ctx: Context,
  secretId: string,
  key: string,
  version: string | undefined,
  signal: AbortSignal | undefined,
): Promise<SecretValue> {
  const input = { SecretId: secretId, ...versionInput(version) };
  try {
    return toSecretValue(await ctx.call("GetSecretValue", input, signal), key, ctx.backend);
  } catch (error) {
    throw mapAwsError(error, { backend: ctx.backend, key, secrets: ctx.secrets });
  }
}

/**
 * The VersionId that holds `AWSCURRENT` (what `GetSecretValue` reads), from `DescribeSecret`: the
 * secret's metadata, so the value is neither fetched nor decrypted. A secret scheduled for
 * deletion, or one without a current version, is not found, as `get` says.
 */
export async function currentVersionId(
  ctx: Context,
  secretId: string,
  key: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  try {
    const described = await ctx.call("DescribeSecret", { SecretId: secretId }, signal);
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages?.includes("AWSCURRENT"),
    )?.[0];
    if (described.DeletedDate !== undefined || current === undefined)
      throw new SecretNotFoundError(key, { backend: ctx.backend });
    return current;
  } catch (error) {
    throw mapAwsError(error, { backend: ctx.backend, key, secrets: ctx.secrets });
  }
}

/**
 * Reads `items` (each ref with its SecretId) in chunks of {@link BATCH_SIZE}, in parallel. Each
 * ref gets its value or its own typed error: an `Errors[]` entry, or the whole chunk's failure.
 */
export async function readMany(
  ctx: Context,
  items: ReadonlyArray<{ ref: SecretRef; id: string }>,
  signal: AbortSignal | undefined,
): Promise<GetManyResult> {
  const result: GetManyResult = new Map();
  const refsById = new Map<string, SecretRef[]>();
  for (const { ref, id } of items) refsById.set(id, [...(refsById.get(id) ?? []), ref]);
  const ids = [...refsById.keys()];
  const settle = (id: string, outcome: (ref: SecretRef) => SecretValue | SecretsError) => {
    for (const ref of refsById.get(id) ?? []) result.set(ref, outcome(ref));
  };
  const context = (ref: SecretRef) => ({ backend: ctx.backend, key: ref.key, secrets: ctx.secrets });

  const chunks = Array.from({ length: Math.ceil(ids.length / BATCH_SIZE) }, (_, i) =>
    ids.slice(i * BATCH_SIZE, (i + 1) * BATCH_SIZE),
  );
  await Promise.all(
    chunks.map(async (chunk) => {
      let out: BatchGetSecretValueCommandOutput;
      try {
        out = await ctx.call("BatchGetSecretValue", { SecretIdList: chunk }, signal);
      } catch (error) {
        for (const id of chunk) settle(id, (ref) => mapAwsError(error, context(ref)));
        return;
      }
      const pending = new Set(chunk);
      for (const entry of out.SecretValues ?? []) {
        const id = [entry.Name, entry.ARN].find(
          (candidate) => candidate !== undefined && pending.has(candidate),
        );
        if (id === undefined) continue;
        pending.delete(id);
        settle(id, (ref) => {
          try {
            return toSecretValue(entry, ref.key, ctx.backend);
          } catch (error) {
            return mapAwsError(error, context(ref));
          }
        });
      }
      for (const entry of out.Errors ?? []) {
        if (entry.SecretId === undefined || !pending.delete(entry.SecretId)) continue;
        settle(entry.SecretId, (ref) => batchEntryError(entry, context(ref)));
      }
      // AWS answers every id; should one be missing, read it alone rather than guess.
      await Promise.all(
        [...pending].map(async (id) => {
          const first = refsById.get(id)?.[0] as SecretRef;
          const outcome = await readSecret(ctx, id, first.key, undefined, signal).catch((error: unknown) =>
            mapAwsError(error, context(first)),
          );
          settle(id, () => outcome);
        }),
      );
    }),
  );
  return result;
}

/** Every `ListSecrets` entry matching `filters` (excluding secrets pending deletion), page by page. */
export async function listAll(
  ctx: Context,
  filters: Filter[],
  signal: AbortSignal | undefined,
): Promise<SecretListEntry[]> {
  const entries: SecretListEntry[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  try {
    do {
      const page = await ctx.call(
        "ListSecrets",
        { Filters: filters, MaxResults: 100, NextToken: token },
        signal,
      );
      entries.push(...(page.SecretList ?? []));
      token = page.NextToken;
      if (token !== undefined && seen.has(token)) {
        throw new BackendUnavailableError("AWS Secrets Manager returned the same NextToken twice.", {
          backend: ctx.backend,
        });
      }
      if (token !== undefined) seen.add(token);
    } while (token);
  } catch (error) {
    throw mapAwsError(error, { backend: ctx.backend, secrets: ctx.secrets });
  }
  return entries;
}

/**
 * `getMany` over refs already checked: BatchGetSecretValue for AWSCURRENT (a ref whose name
 * cannot be formed gets its error); it reads AWSCURRENT only, so with a version each ref is read
 * alone (`readOne`, which returns its error rather than throwing).
 */
export async function readBatch(
  ctx: Context,
  idOf: (ref: SecretRef) => string,
  refs: readonly SecretRef[],
  options: { signal?: AbortSignal | undefined; version?: string | undefined },
  readOne: (ref: SecretRef) => Promise<SecretValue | SecretsError>,
): Promise<GetManyResult> {
  const out: GetManyResult = new Map();
  const named: Array<{ ref: SecretRef; id: string }> = [];
  for (const ref of refs) {
    try {
      named.push({ ref, id: idOf(ref) });
    } catch (error) {
      out.set(
        ref,
        isSecretsError(error)
          ? error
          : mapAwsError(error, { backend: ctx.backend, key: ref.key, secrets: ctx.secrets }),
      );
    }
  }
  const read: GetManyResult =
    options.version === undefined
      ? await readMany(ctx, named, options.signal)
      : new Map(await Promise.all(named.map(async ({ ref }) => [ref, await readOne(ref)] as const)));
  for (const [ref, value] of read) out.set(ref, value);
  return out;
}
