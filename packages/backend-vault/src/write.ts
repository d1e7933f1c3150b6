/** The Vault backend's writes: a value with its metadata (plain or check-and-set), and delete. */
import { type PutMetadata, SecretNotFoundError, type SecretRef } from "@keyway/core/backend";
import { type Body, type KvContext, undefinedOn404 } from "./connection.js";
import {
  dataPath,
  encodeCustomMetadata,
  encodeData,
  isUnwritten,
  metadataFromV1,
  metadataPath,
  withV1Metadata,
} from "./kv.js";
import { secretPath } from "./names.js";

export async function writeValue(
  kv: KvContext,
  ref: SecretRef,
  value: string | Uint8Array,
  metadata: PutMetadata | undefined,
  cas: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { call, settings: o } = kv;
  const { mount, kvVersion, layout, name } = o;
  const path = secretPath(layout, ref);
  const api = dataPath(mount, kvVersion, path);
  const data = encodeData(value);
  const sensitive = Object.values(data) as string[];
  const ctx = { operation: "write" as const, path: api, key: ref.key, sensitive };
  if (kvVersion === 1) {
    // KV v1 replaces the whole object: carry the stored description and tags over.
    const kept =
      metadata ??
      metadataFromV1(
        (
          await call<Body>({ ...ctx, operation: "read" }, signal, (c, ro) =>
            c.read(api, ro).catch(undefinedOn404),
          )
        )?.data ?? {},
      );
    await call(ctx, signal, (c, ro) => c.write(api, withV1Metadata(data, kept), ro));
    return;
  }
  const custom = metadata ? encodeCustomMetadata(ref.key, metadata, name) : undefined;
  const metaApi = metadataPath(mount, path);
  const writeMetadata = async () => {
    if (!custom) return;
    await call({ ...ctx, path: metaApi }, signal, (c, ro) =>
      c.write(metaApi, { custom_metadata: custom }, ro),
    );
  };
  const writeData = () =>
    call(ctx, signal, (c, ro) => c.write(api, cas === undefined ? { data } : { data, options: { cas } }, ro));
  // KV v2 takes the value and the custom metadata in two requests. The data write is the commit
  // point: it is the request that makes a version, and a version is what every read (get, list,
  // getMany, delete) takes as "the secret exists". So a plain put writes the metadata FIRST:
  // - a create cut off between the two leaves a metadata-only path (current_version 0), which
  //   reads as not found, so a re-run (`keyway copy`) plans it as a create again and completes it;
  // - an update cut off between the two leaves the old value and version with the new metadata;
  //   the version did not move, so anything that compares versions, or a re-run with
  //   --overwrite, redoes the whole put. (Value first would instead leave a new version with stale
  //   metadata that no version check can tell apart from a finished put.)
  // This needs no extra request to tell a create from an update.
  // Check-and-set is the exception: the CAS check happens on the data write, and a put that
  // loses it must change nothing, so the value goes first and the metadata only once the check
  // passed. A putWithCas cut off between the two leaves the new version without the new
  // metadata; the caller repairs it with putWithCas(ref, value, <that version>, metadata).
  if (cas === undefined) {
    await writeMetadata();
    await writeData();
  } else {
    await writeData();
    await writeMetadata();
  }
}

/**
 * Vault answers 204 to deleting a missing path, so existence is checked first. A KV v2
 * metadata-only path (a create cut off before its value, see `write`) is not a secret, so
 * deleting it is SecretNotFoundError like everywhere else; the orphan metadata is removed
 * first all the same, so nothing of the failed create is left behind.
 */
export async function removeSecret(
  kv: KvContext,
  ref: SecretRef,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { call, settings: o } = kv;
  const { mount, kvVersion, layout, name } = o;
  const path = secretPath(layout, ref);
  const api = kvVersion === 2 ? metadataPath(mount, path) : dataPath(mount, 1, path);
  const ctx = { operation: "delete" as const, path: api, key: ref.key };
  const body = await call<Body>(ctx, signal, (c, ro) => c.read(api, ro));
  await call(ctx, signal, (c, ro) => c.delete(api, ro));
  if (kvVersion === 2 && isUnwritten(body?.data ?? {}))
    throw new SecretNotFoundError(ref.key, { backend: name });
}
