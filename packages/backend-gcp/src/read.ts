/** The GCP backend's reads: a value (`latest` or a version), the current version, a namespace's keys. */
import {
  type GetOptions,
  InvalidReferenceError,
  type ListOptions,
  SecretDisabledError,
  type SecretListing,
  type SecretRef,
  type SecretValue,
} from "@keyway/core/backend";
import { type Annotations, ENCODING, metadataOf } from "./annotations.js";
import type { GcpContext } from "./context.js";
import { GrpcStatus } from "./errors.js";
import { decodeSecretId, NAMESPACE_LABEL, namespaceLabel } from "./names.js";
import { checksumMatches, payloadBytes, toSecretValue } from "./payload.js";

const VERSION = /^(latest|[1-9][0-9]{0,18}|[A-Za-z][A-Za-z0-9_-]{0,62})$/;

export async function readValue(ctx: GcpContext, ref: SecretRef, options: GetOptions): Promise<SecretValue> {
  const { signal, version = "latest" } = options;
  if (!VERSION.test(version))
    throw new InvalidReferenceError(`Invalid GCP secret version for '${ref.key}'.`, { backend: ctx.name });
  const secret = ctx.secretName(ref);
  const access = ctx.send(signal, (c, o) =>
    c.accessSecretVersion({ name: `${secret}/versions/${version}` }, o),
  );
  // Best effort: the value is right without it, so a failure here only loses the metadata.
  const annotations = ctx.settings.readSecretMetadata
    ? ctx
        .send(signal, (c, o) => c.getSecret({ name: secret }, o))
        .then(
          ([s]) => (s.annotations ?? {}) as Annotations,
          () => undefined,
        )
    : Promise.resolve(undefined);
  const [response] = await access.catch((error: unknown) => {
    throw ctx.fail(error, "access", ref.key, signal);
  });
  const bytes = payloadBytes(response.payload?.data);
  if (!checksumMatches(bytes, response.payload?.dataCrc32c)) {
    const corrupt = Object.assign(new Error("payload CRC32C mismatch"), { code: GrpcStatus.DATA_LOSS });
    throw ctx.fail(corrupt, "access", ref.key);
  }
  const found = await annotations;
  const read = response.name?.split("/versions/")[1];
  return toSecretValue(bytes, found?.[ENCODING] === "binary", { ...metadataOf(found ?? {}), version: read });
}

/**
 * The version `latest` names now, from `getSecretVersion` (the version's metadata: the payload
 * is not accessed): `<number>@<create time>`, since a secret deleted and created again starts
 * over at version 1. A latest version that is not enabled is SecretDisabledError, as `get`
 * says when it cannot access it.
 */
export async function currentVersion(ctx: GcpContext, ref: SecretRef, signal?: AbortSignal): Promise<string> {
  const [version] = await ctx
    .send(signal, (c, o) => c.getSecretVersion({ name: `${ctx.secretName(ref)}/versions/latest` }, o))
    .catch((error: unknown) => {
      throw ctx.fail(error, "read-metadata", ref.key, signal);
    });
  const number = version.name?.split("/versions/")[1];
  if (number === undefined || number === "")
    throw ctx.fail(new Error("getSecretVersion answered without a version name"), "read-metadata", ref.key);
  const state = version.state;
  if (state !== undefined && state !== null && state !== "ENABLED" && state !== 1) {
    throw new SecretDisabledError(
      `Secret '${ref.key}' exists but its latest version is ${String(state).toLowerCase()}.`,
      { backend: ctx.name },
    );
  }
  const created = version.createTime;
  return created?.seconds === undefined || created.seconds === null
    ? number
    : `${number}@${String(created.seconds)}.${String(created.nanos ?? 0).padStart(9, "0")}`;
}

/** The keys of one namespace (and tenant), page by page; the ids decide, whatever the filter did. */
export async function listKeys(
  ctx: GcpContext,
  namespace: string,
  options: ListOptions,
): Promise<SecretListing[]> {
  const { tenant, signal } = options;
  const { prefix, listPageSize } = ctx.settings;
  const filter = `labels.${NAMESPACE_LABEL}=${namespaceLabel(prefix, tenant, namespace)}`;
  const found = new Map<string, SecretListing>();
  const tokens = new Set<string>();
  let pageToken: string | undefined;
  do {
    const [secrets, , response] = await ctx
      .send(signal, (c, o) =>
        c.listSecrets(
          { parent: ctx.parent, pageSize: listPageSize, pageToken, filter },
          { ...o, autoPaginate: false },
        ),
      )
      .catch((error: unknown) => {
        throw ctx.fail(error, "list", undefined, signal);
      });
    for (const secret of secrets) {
      const decoded = decodeSecretId(secret.name?.slice(secret.name.lastIndexOf("/") + 1) ?? "");
      if (
        !decoded ||
        decoded.prefix !== prefix ||
        decoded.tenant !== tenant ||
        decoded.namespace !== namespace
      )
        continue;
      found.set(decoded.key, {
        key: decoded.key,
        metadata: metadataOf((secret.annotations ?? {}) as Annotations),
      });
    }
    pageToken = response?.nextPageToken || undefined;
    if (pageToken !== undefined && tokens.has(pageToken)) {
      const repeated = Object.assign(new Error("ListSecrets repeated a page token"), {
        code: GrpcStatus.INTERNAL,
      });
      throw ctx.fail(repeated, "list", undefined);
    }
    if (pageToken !== undefined) tokens.add(pageToken);
  } while (pageToken !== undefined);
  return [...found.values()];
}
