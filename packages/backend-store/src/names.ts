/** How a reference is named in the store's tables, and how a version number is written. */
import type { SecretRef } from "@keyway/core/backend";
import type { Binding } from "./crypto.js";
import type { StoredName } from "./engine.js";

/** A version number as `get`, `probeVersion` and compare-and-set write it. */
export const VERSION_PATTERN = /^[0-9]{1,15}$/;

/** The ref's row name: the tenant is `""` when absent (a valid tenant is never empty). */
export const storedName = (ref: SecretRef): StoredName => ({
  tenant: ref.tenant ?? "",
  namespace: ref.namespace,
  key: ref.key,
});

/** What a version is bound to (the associated data of its encryption). */
export const bindingOf = (storeId: string, ref: SecretRef, version: number): Binding => ({
  storeId,
  ...storedName(ref),
  version,
});
