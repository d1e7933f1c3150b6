/**
 * Where a ref lives, per mode: by Keyway's name mapping (managed and read-only `names`), by a flat
 * name prefix (read-only `prefix`), or by `keyway:` tags on secrets of any name (read-only `tags`).
 */
import type { Filter, SecretListEntry } from "@aws-sdk/client-secrets-manager";
import {
  ConfigurationError,
  isValidKey,
  type SecretListing,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core/backend";
import {
  namespaceNamePrefix,
  parseSecretName,
  secretName,
  TAG_KEY,
  TAG_NAMESPACE,
  tagRecord,
  tagsMatchRef,
  userTags,
} from "./names.js";
import type { AwsReadOnlyOption } from "./options.js";
import { type Context, listAll } from "./read.js";

export interface Locator {
  /** The SecretId of a ref when the name alone gives it (then `getMany` can batch). */
  readonly idOf?: ((ref: SecretRef) => string) | undefined;
  /** The SecretId of a ref. @throws SecretNotFoundError when no secret holds it. */
  find(ref: SecretRef, signal: AbortSignal | undefined): Promise<string>;
  /** `ListSecrets` filters that narrow to a namespace; {@link keyOf} has the last word. */
  listFilters(namespace: string, tenant: string | undefined): Filter[];
  /** The key an entry holds directly in that namespace (and tenant), else undefined. */
  keyOf(entry: SecretListEntry, namespace: string, tenant: string | undefined): string | undefined;
}

function byName(idOf: (ref: SecretRef) => string, rest: Omit<Locator, "idOf" | "find">): Locator {
  return { idOf, find: async (ref) => idOf(ref), ...rest };
}

/** Secrets named `<prefix>/<tenant or _>/<segments>/<KEY>`. */
export function nameLocator(prefix: string): Locator {
  return byName((ref) => secretName(prefix, ref), {
    listFilters: (namespace, tenant) => [
      { Key: "name", Values: [namespaceNamePrefix(prefix, namespace, tenant)] },
    ],
    keyOf(entry, namespace, tenant) {
      const ref = entry.Name === undefined ? undefined : parseSecretName(prefix, entry.Name);
      return ref && ref.namespace === namespace && ref.tenant === tenant ? ref.key : undefined;
    },
  });
}

/** Secrets named `<namePrefix><KEY>`, the same for every namespace and tenant. */
export function prefixLocator(namePrefix: string): Locator {
  return byName((ref) => `${namePrefix}${ref.key}`, {
    listFilters: () => [{ Key: "name", Values: [namePrefix] }],
    keyOf(entry) {
      const key = entry.Name?.startsWith(namePrefix) ? entry.Name.slice(namePrefix.length) : undefined;
      return key !== undefined && isValidKey(key) ? key : undefined;
    },
  });
}

/** Secrets of any name carrying `keyway:key`/`keyway:namespace`/`keyway:tenant` (and `extra`) tags. */
export function tagLocator(ctx: Context, extra: Readonly<Record<string, string>> = {}): Locator {
  const hasExtra = (tags: Record<string, string>) => Object.entries(extra).every(([k, v]) => tags[k] === v);
  return {
    async find(ref, signal) {
      // Both filters are prefix matches on any tag: the exact check is ours.
      const filters = [
        { Key: "tag-key" as const, Values: [TAG_KEY] },
        { Key: "tag-value" as const, Values: [ref.key] },
      ];
      const matches = (await listAll(ctx, filters, signal)).filter((entry) => {
        const tags = tagRecord(entry.Tags);
        return tagsMatchRef(tags, ref) && hasExtra(tags);
      });
      const [only] = matches;
      if (!only?.ARN) throw new SecretNotFoundError(ref.key, { backend: ctx.backend });
      if (matches.length > 1) {
        const names = matches.map((m) => m.Name).join(", ");
        throw new ConfigurationError(
          `Secret '${ref.key}' is ambiguous: ${matches.length} secrets carry its tags (${names}).`,
          {
            backend: ctx.backend,
          },
        );
      }
      return only.ARN;
    },
    listFilters: (namespace) => [
      { Key: "tag-key", Values: [TAG_NAMESPACE] },
      ...(namespace === "" ? [] : [{ Key: "tag-value" as const, Values: [namespace] }]),
    ],
    keyOf(entry, namespace, tenant) {
      const tags = tagRecord(entry.Tags);
      const key = tags[TAG_KEY];
      return isValidKey(key) && hasExtra(tags) && tagsMatchRef(tags, { namespace, key, tenant })
        ? key
        : undefined;
    },
  };
}

export function locatorFor(ctx: Context, prefix: string, readOnly: AwsReadOnlyOption | undefined): Locator {
  if (readOnly?.match === "tags") return tagLocator(ctx, readOnly.tags);
  if (readOnly?.match === "prefix") return prefixLocator(readOnly.namePrefix);
  return nameLocator(prefix);
}

/** The keys stored directly in a namespace, each once, with their listing metadata (unsorted). */
export async function listKeys(
  ctx: Context,
  locator: Locator,
  namespace: string,
  tenant: string | undefined,
  signal: AbortSignal | undefined,
): Promise<SecretListing[]> {
  const listed = new Map<string, SecretListing>();
  for (const entry of await listAll(ctx, locator.listFilters(namespace, tenant), signal)) {
    const key = locator.keyOf(entry, namespace, tenant);
    if (key === undefined || listed.has(key)) continue;
    const metadata = {
      description: entry.Description,
      tags: userTags(tagRecord(entry.Tags)),
      updatedAt: entry.LastChangedDate,
    };
    listed.set(key, { key, metadata });
  }
  return [...listed.values()];
}
