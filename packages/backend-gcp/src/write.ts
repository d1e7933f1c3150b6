/** The GCP backend's writes: a new version (creating the secret first when needed), and delete. */
import type { PutMetadata, SecretRef } from "@keyway/core/backend";
import { type Annotations, annotationsFor, mergeAnnotations, sameAnnotations } from "./annotations.js";
import { crc32c } from "./client.js";
import type { GcpContext } from "./context.js";
import { GrpcStatus, grpcCode } from "./errors.js";
import { NAMESPACE_LABEL, namespaceLabel } from "./names.js";
import { encodePayload } from "./payload.js";

export async function writeValue(
  ctx: GcpContext,
  ref: SecretRef,
  value: string | Uint8Array,
  metadata: PutMetadata,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { prefix } = ctx.settings;
  const bytes = encodePayload(ref, value, ctx.name);
  const secret = ctx.secretName(ref);
  const wanted = annotationsFor(prefix, ref, metadata, typeof value !== "string", ctx.name);
  const labels = {
    [NAMESPACE_LABEL]: namespaceLabel(prefix, ref.tenant, ref.namespace),
    "managed-by": "keyway",
  };
  try {
    await ctx.send(signal, (c, o) =>
      c.createSecret(
        {
          parent: ctx.parent,
          secretId: secret.slice(secret.lastIndexOf("/") + 1),
          secret: { replication: { automatic: {} }, labels, annotations: wanted },
        },
        o,
      ),
    );
  } catch (error) {
    if (grpcCode(error) !== GrpcStatus.ALREADY_EXISTS || signal?.aborted)
      throw ctx.fail(error, "write-metadata", undefined, signal);
    await updateAnnotations(ctx, secret, ref, metadata, wanted, labels, signal);
  }
  await ctx
    .send(signal, (c, o) =>
      c.addSecretVersion({ parent: secret, payload: { data: bytes, dataCrc32c: crc32c(bytes) } }, o),
    )
    .catch((error: unknown) => {
      throw ctx.fail(error, "write-value", ref.key, signal);
    });
}

export async function deleteSecret(
  ctx: GcpContext,
  ref: SecretRef,
  signal: AbortSignal | undefined,
): Promise<void> {
  const name = ctx.secretName(ref); // an id over the limit fails here, before any call
  await ctx
    .send(signal, (c, o) => c.deleteSecret({ name }, o))
    .catch((error: unknown) => {
      throw ctx.fail(error, "delete", ref.key, signal);
    });
}

/** Merges our annotations into an existing secret's, writing only when something changes. */
async function updateAnnotations(
  ctx: GcpContext,
  secret: string,
  ref: SecretRef,
  metadata: PutMetadata,
  wanted: Annotations,
  labels: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<void> {
  try {
    const [current] = await ctx.send(signal, (c, o) => c.getSecret({ name: secret }, o));
    const before = (current.annotations ?? {}) as Annotations;
    const after = mergeAnnotations(before, wanted, metadata);
    const currentLabels = current.labels ?? {};
    const labelsChange = Object.entries(labels).some(([k, v]) => currentLabels[k] !== v);
    if (sameAnnotations(before, after) && !labelsChange) return;
    await ctx.send(signal, (c, o) =>
      c.updateSecret(
        {
          // The etag makes a concurrent update fail (ABORTED → unavailable) instead of losing one.
          secret: {
            name: secret,
            annotations: after,
            labels: { ...currentLabels, ...labels },
            etag: current.etag ?? "",
          },
          updateMask: { paths: labelsChange ? ["annotations", "labels"] : ["annotations"] },
        },
        o,
      ),
    );
  } catch (error) {
    throw ctx.fail(error, "write-metadata", ref.key, signal);
  }
}
