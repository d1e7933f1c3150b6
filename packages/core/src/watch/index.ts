/**
 * Watching secrets for rotation: `router.watch(ref, listener, options)` (or its async-iterator
 * form) calls the listener with `{ ref, version, previousVersion }` each time the version of the
 * value a resolve of `ref` returns changes; never with a value.
 *
 * The rooms: `registry.ts` (all the watches of a router, and what they share), `subject.ts` (one
 * watched ref: which level serves it, and what a change does), `poller.ts` (the one poll of a
 * backend's level), `push.ts` (a backend's pushed change events), `host.ts` (what the router
 * passes in: the watches import nothing of it).
 *
 * - **One poll per target.** Watches of the same ref (tenant, namespace, key, `inherit`) share one
 *   subject, and subjects share one poll per (backend, namespace level) they look at, so N
 *   watchers of a key cost one probe per interval whatever N is. A poll probes at the shortest
 *   interval its watchers asked for, each wait shortened at random by up to {@link JITTER}.
 * - **Pushed changes, when the backend has them.** A backend with `subscribe` is subscribed to
 *   once (shared by every watch on it), before any baseline is read; while that channel is up
 *   nothing is polled, and a change to a watched level is probed at once. A lost channel falls
 *   back to polling and is subscribed again with backoff (see push.ts).
 * - **Probes read metadata.** A probe is the backend's `probeVersion` (AWS `DescribeSecret`, Vault
 *   KV v2 metadata, GCP `getSecretVersion('latest')`, …). A backend without one (Vault KV v1, a
 *   custom backend) is read with `get`, and compared by `metadata.version` when the value has one,
 *   else by a keyed digest of the value that never leaves the poll (HMAC-SHA256 under a random
 *   key per poll; what listeners see is a count of the changes, `"1"`, `"2"`, …).
 * - **Same bounds as reads.** Probes go through the backend's circuit breaker and finish within
 *   the router's `timeoutMs` (see `probe` in cache/resolver.ts); they are not retried, the next
 *   poll is.
 * - **Failures are never changes.** A probe that fails (unavailable, denied, disabled, breaker
 *   open, deadline) leaves the last version known in place and goes to `onError`, if given (and to
 *   `keyway:backend` as a failed `probeVersion` call); the next successful probe is compared with
 *   the version known before the outage, so a value unchanged through an outage emits nothing and
 *   one rotated during it emits exactly one change. Only not-found is an answer: the ref may be
 *   served by an ancestor, or deleted.
 * - **Inheritance.** A watch follows the level that serves the ref now: the levels are probed
 *   from the ref's own namespace up to the first that holds it (the levels above it cannot change
 *   what a resolve returns). A value that appears in a nearer namespace, or the serving one
 *   deleted so that an ancestor's shows through, is a change (`foundIn` tells where it comes from),
 *   as is the ref's deletion (`version: undefined`) and its creation (`previousVersion: undefined`).
 *   Replicas (`fallback`) are not probed: a primary that is down is an error, not a change.
 * - **On a change**, before any listener runs: the cached entries of the ref at every level are
 *   dropped (so the next resolve reads the new value), and one event goes to `keyway:change` and
 *   one to the audit sink, whatever the number of watchers.
 */
export type { ChangeAudit, WatchHost, WatchLevel } from "./host.js";
export {
  JITTER,
  type VersionChange,
  type Watch,
  type WatchIterator,
  type WatchListener,
  type WatchOptions,
} from "./options.js";
export { Watches } from "./registry.js";
