/** The Azure backend's reads: a value, a namespace's keys, the current version id. */
import {
  BackendUnavailableError,
  type GetOptions,
  type ListOptions,
  type SecretListing,
  type SecretRef,
  type SecretValue,
} from "@keyway/core/backend";
import type { AzureContext } from "./context.js";
import { decodeName, namespacePrefix, secretName } from "./names.js";
import { checkVersion } from "./options.js";
import { checkUsable, decodeMetadata, decodeValue } from "./values.js";

export async function readValue(
  ctx: AzureContext,
  ref: SecretRef,
  options: GetOptions,
): Promise<SecretValue> {
  const version = checkVersion(options.version, ctx.name);
  const secret = secretName(ctx.settings.prefix, ref, ctx.name);
  const found = await ctx.call("get", ref.key, (c) =>
    c.getSecret(secret, { ...ctx.sdkOptions(options.signal), version }),
  );
  return decodeValue(found, ref.key, ctx.name);
}

export function listKeys(
  ctx: AzureContext,
  namespace: string,
  options: ListOptions,
): Promise<SecretListing[]> {
  const { prefix } = ctx.settings;
  const start = namespacePrefix(prefix, namespace, options.tenant);
  return ctx.call("list", undefined, async (c) => {
    const found: SecretListing[] = [];
    for await (const properties of c.listPropertiesOfSecrets(ctx.sdkOptions(options.signal))) {
      if (!properties.name.toLowerCase().startsWith(start)) continue;
      const decoded = decodeName(properties.name);
      // The prefix match already implies these; checked again so a decoding slip cannot leak across.
      if (decoded?.prefix !== prefix || decoded.namespace !== namespace || decoded.tenant !== options.tenant)
        continue;
      found.push({ key: decoded.key, metadata: decodeMetadata(properties) });
    }
    return found;
  });
}

/**
 * The current version id. Key Vault has no metadata-only read of a secret's current version:
 * `GET secrets/{name}` returns the value with it, and the versions list (properties only) has
 * no "current" mark and `created` times of one-second resolution, so two writes in one second
 * could not be told apart (and it is one request per 25 versions). So this is `getSecret`, whose
 * value is dropped unread; errors map as in `get` (disabled, expired, not yet valid, not found).
 */
export async function currentVersion(
  ctx: AzureContext,
  ref: SecretRef,
  signal?: AbortSignal,
): Promise<string> {
  const secret = secretName(ctx.settings.prefix, ref, ctx.name);
  const { properties } = await ctx.call("get", ref.key, (c) => c.getSecret(secret, ctx.sdkOptions(signal)));
  checkUsable(properties, ref.key, ctx.name);
  if (!properties.version)
    throw new BackendUnavailableError(`Azure Key Vault returned no version id for secret '${ref.key}'.`, {
      backend: ctx.name,
    });
  return properties.version;
}
