/**
 * Pushed change events: one subscription per backend that has `subscribe`, shared by every poll
 * of that backend's levels (so by every watch on it).
 *
 * - **Subscribed before the baseline.** The polls of a backend read no version until its
 *   subscription listens: a change committed between the two is then either in the baseline or
 *   delivered, never missed.
 * - **While the channel is up, no polling.** A change that could affect a level (its key and
 *   tenant, its namespace, keys compared as the backend's `caseSensitiveKeys` says) makes that
 *   level's poll probe at once; the probe's answer goes through the same comparison as a poll's,
 *   so a change drops the cached value before any listener hears of it, as polling does.
 * - **Lost, then polling.** When `subscribe` fails, does not answer within the router's
 *   `timeoutMs` (its signal then aborts), or its listener hears `lost(error)`, every poll probes at once
 *   (changes may have been missed) and polls at its interval; the source subscribes again after a
 *   jittered backoff (from {@link FIRST_BACKOFF_MS} to {@link MAX_BACKOFF_MS}) and, once listening,
 *   each poll probes once more and stops polling.
 * - **Released with the last watch.** The subscription is closed when the last poll of the
 *   backend stops.
 */
import type { SecretBackend, SecretChange, Subscription } from "../backend.js";
import type { WatchLevel } from "./host.js";

/** The first wait before subscribing again; it doubles per failure, up to {@link MAX_BACKOFF_MS}. */
export const FIRST_BACKOFF_MS = 100;
export const MAX_BACKOFF_MS = 30_000;

/** A poll the source drives (see poller.ts). */
export interface PushTarget {
  readonly level: WatchLevel;
  /** The channel listens: probe now (the baseline, or to catch up), then wait for changes. */
  pushUp(): void;
  /** The channel is down: probe now, then poll at the interval. */
  pushDown(): void;
  /** A change that may affect this level: probe now. */
  changed(): void;
}

type State = "idle" | "connecting" | "up" | "down";

/** The push channel of one backend. */
export class PushSource {
  readonly #targets = new Set<PushTarget>();
  #state: State = "idle";
  #subscription: Subscription | undefined;
  /** Bumped by each subscribe and each loss: events of an older subscription are ignored. */
  #generation = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the `subscribe` under way when it is given up (timed out, lost, last watch gone). */
  #connecting: AbortController | undefined;
  #closed = false;

  constructor(
    readonly backend: SecretBackend & Required<Pick<SecretBackend, "subscribe">>,
    /** How long `subscribe` may take before the polls fall back to polling (it is tried again later). */
    readonly timeoutMs: number,
    readonly stopped: () => void,
  ) {}

  attach(target: PushTarget): void {
    this.#targets.add(target);
    if (this.#state === "idle") this.#connect();
    else if (this.#state === "up") target.pushUp();
    else if (this.#state === "down") target.pushDown();
    // connecting: told when the subscription answers
  }

  detach(target: PushTarget): void {
    this.#targets.delete(target);
    if (this.#targets.size > 0 || this.#closed) return;
    this.#closed = true;
    this.#generation++;
    clearTimeout(this.#timer);
    this.#connecting?.abort();
    release(this.#subscription);
    this.#subscription = undefined;
    this.stopped();
  }

  #connect(): void {
    this.#state = "connecting";
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && !this.#closed;
    const connecting = new AbortController();
    this.#connecting = connecting;
    let pending: Promise<Subscription>;
    try {
      pending = Promise.resolve(
        this.backend.subscribe(
          {
            change: (change) => {
              if (current() && this.#state === "up") this.#changed(change);
            },
            lost: () => {
              if (current()) this.#lost();
            },
          },
          { signal: connecting.signal },
        ),
      );
    } catch (error) {
      pending = Promise.reject(error);
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (current() && this.#state === "connecting") this.#lost();
    }, this.timeoutMs);
    this.#timer.unref();
    pending.then(
      (subscription) => {
        if (!current()) return release(subscription);
        clearTimeout(this.#timer);
        this.#connecting = undefined;
        this.#subscription = subscription;
        this.#state = "up";
        this.#failures = 0;
        for (const target of [...this.#targets]) target.pushUp();
      },
      () => {
        if (current()) this.#lost();
      },
    );
  }

  #lost(): void {
    this.#state = "down";
    this.#generation++;
    this.#connecting?.abort();
    this.#connecting = undefined;
    release(this.#subscription);
    this.#subscription = undefined;
    for (const target of [...this.#targets]) target.pushDown();
    const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.#failures++);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => {
        if (!this.#closed) this.#connect();
      },
      backoff * (0.5 + Math.random() / 2),
    );
    this.#timer.unref();
  }

  #changed(change: SecretChange): void {
    const caseSensitive = this.backend.capabilities.caseSensitiveKeys;
    const global = this.backend.capabilities.global === true;
    for (const target of [...this.#targets])
      if (affects(target.level, change, caseSensitive, global)) target.changed();
  }
}

/**
 * Whether a pushed change may change what `level` answers: same tenant, same namespace (a global
 * backend has none), same key (per the backend's case rule). A change a backend describes badly
 * may affect anything: every level re-checks.
 */
export function affects(
  level: WatchLevel,
  change: SecretChange,
  caseSensitive: boolean,
  global: boolean,
): boolean {
  if (typeof change !== "object" || change === null) return true;
  const { key, namespace, tenant } = change;
  if (typeof key !== "string" || typeof namespace !== "string") return true;
  if (tenant !== undefined && typeof tenant !== "string") return true;
  const ref = level.ref;
  if ((tenant === "" ? undefined : tenant) !== ref.tenant) return false;
  if (!global && namespace !== ref.namespace) return false;
  return caseSensitive ? key === ref.key : key.toUpperCase() === ref.key.toUpperCase();
}

/** Closes a subscription nobody listens to any more; its failure changes nothing. */
function release(subscription: Subscription | undefined): void {
  if (!subscription) return;
  try {
    subscription.close().catch(() => {});
  } catch {
    // a close that throws instead of rejecting: the same
  }
}
