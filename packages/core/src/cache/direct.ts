/**
 * What the resolver asks of its backend outside the cache: getting ready (`prepare`), a watch's
 * version probe, and dropping every cached spelling of a ref.
 */
import type { PrepareOptions, SecretBackend } from "../backend.js";
import { BackendUnavailableError, isSecretsError } from "../errors.js";
import type { Redactor } from "../redact/types.js";
import { refId, type SecretRef, validateRef } from "../ref.js";
import type { SecretValue } from "../value.js";
import { untilAborted, withDeadline } from "./call/deadline.js";
import type { BackendCall } from "./call/pipeline.js";
import { toSecretsError } from "./failure.js";

/** The backend's `prepare`, abortable; any failure a redacted Keyway error. */
export async function prepareBackend(
  backend: SecretBackend,
  options: PrepareOptions,
  redactor: Redactor,
): Promise<void> {
  const name = backend.name;
  try {
    // Not bounded by timeoutMs: loading an SDK on a busy machine may take longer than a read may.
    const ready = backend.prepare?.(options);
    if (ready) await untilAborted(ready, options.signal, `Preparing backend '${name}'`, name);
  } catch (raw) {
    const error = isSecretsError(raw)
      ? raw
      : new BackendUnavailableError(`Backend '${name}' could not be made ready.`, {
          backend: name,
          cause: raw,
        });
    throw redactor.redactError(error);
  }
}

/**
 * One version probe of `ref` (validated) for `router.watch`: through the call pipeline (deadline,
 * telemetry, breaker; not retried: the next poll is the retry), never through the cache, within
 * `timeoutMs`. A value read instead of a version is registered with the redactor.
 */
export async function probeBackend(
  call: BackendCall,
  backend: string,
  timeoutMs: number,
  redactor: Redactor,
  ref: SecretRef,
  signal: AbortSignal,
): Promise<string | SecretValue> {
  try {
    const request = call.probe(ref, signal);
    const answer = await withDeadline(
      request,
      timeoutMs,
      `the version of secret '${ref.key}'`,
      signal,
      backend,
    );
    if (typeof answer !== "string") redactor.register(answer, { key: ref.key });
    return answer;
  } catch (raw) {
    throw redactor.redactError(toSecretsError(raw, backend, undefined, ref));
  }
}

/**
 * Drops the cached entries of `ref`, pinned versions included. A backend whose keys ignore case
 * (env: `db` reads SECRET_DB) caches one secret under each spelling read: all of them go, or a
 * rotation seen through one spelling leaves the old value under the others (namespaces differing
 * only in case go too: at worst one more read). Valid ids hold no `@` but the version's.
 */
export function dropCached(
  cache: { keys(): Iterable<string>; delete(id: string): unknown },
  ref: SecretRef,
  caseSensitive: boolean,
): void {
  const id = refId(validateRef(ref));
  const target = caseSensitive ? id : id.toUpperCase();
  for (const key of [...cache.keys()]) {
    const at = key.indexOf("@");
    const base = at === -1 ? key : key.slice(0, at);
    if ((caseSensitive ? base : base.toUpperCase()) === target) cache.delete(key);
  }
}
