/**
 * Watching secrets for rotation: `router.watch(ref, listener, options)` (or its async-iterator
 * form) calls the listener with `{ ref, version, previousVersion }` each time the version of the
 * value a resolve of `ref` returns changes; never with a value.
 *
 * - **One poll per target.** Watches of the same ref (tenant, namespace, key, `inherit`) share one
 *   subject, and subjects share one poller per (backend, namespace level) they look at, so N
 *   watchers of a key cost one probe per interval whatever N is. A poller probes at the shortest
 *   interval its watchers asked for, each wait shortened at random by up to {@link JITTER}.
 * - **Probes read metadata.** A probe is the backend's `probeVersion` (AWS `DescribeSecret`, Vault
 *   KV v2 metadata, GCP `getSecretVersion('latest')`, …). A backend without one (Vault KV v1, a
 *   custom backend) is read with `get`, and compared by `metadata.version` when the value has one,
 *   else by a keyed digest of the value that never leaves this module (HMAC-SHA256 under a random
 *   key per poller; what listeners see is a count of the changes, `"1"`, `"2"`, …).
 * - **Same bounds as reads.** Probes go through the backend's circuit breaker and finish within
 *   the router's `timeoutMs` (see `probe` in cache.ts); they are not retried, the next poll is.
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
import type { AuditEvent } from "./audit.js";
import type { SecretsError } from "./errors.js";
import { ConfigurationError, SecretNotFoundError } from "./errors.js";
import { refId, type SecretRef, validateRef } from "./ref.js";
import type { PlannedLevel } from "./router/plans.js";
import { type ChangeEvent, channels, publish } from "./telemetry.js";
import type { SecretValue } from "./value.js";

/** Options of `router.watch`. */
export interface WatchOptions {
  /**
   * How often the version is probed, in milliseconds. Watches of one target share one poll, at
   * the shortest interval any of them asks for.
   * @default 30000
   */
  intervalMs?: number | undefined;
  /** Climb the namespace tree, as a resolve does (see `ResolveOptions.inherit`). @default true */
  inherit?: boolean | undefined;
  /**
   * Called with each failed probe (unavailable, denied, disabled, …), with an error that holds no
   * value. A failure is never a change; watching goes on.
   * @default undefined (failures are dropped; they still reach `keyway:backend`)
   */
  onError?: ((error: SecretsError) => void) | undefined;
  /** Ends the watch when it aborts. */
  signal?: AbortSignal | undefined;
  /** Keep the process alive while the watch runs, as `fs.watch` does. @default true */
  persistent?: boolean | undefined;
}

/** A change of the version a resolve of the watched ref returns. Never holds a value. */
export interface VersionChange {
  /** The watched ref (validated copy). */
  readonly ref: SecretRef;
  /** The version now; `undefined` when the ref is not found any more. */
  readonly version: string | undefined;
  /** The version before; `undefined` when the ref was not found before. */
  readonly previousVersion: string | undefined;
  /** The namespace the value comes from now (inheritance), if found. */
  readonly foundIn: string | undefined;
  /** The namespace it came from before, if it was found. */
  readonly previousFoundIn: string | undefined;
  /** The backend that serves it now, if found. */
  readonly backend: string | undefined;
}

/** Receives changes; may be async. A listener that throws is reported once as a warning. */
export type WatchListener = (change: VersionChange) => void | Promise<void>;

/** A running watch. */
export interface Watch {
  /** Stops this watch (the shared poll stops with its last watch). Idempotent. */
  close(): void;
  readonly closed: boolean;
}

/**
 * The async-iterator form: yields each change; ends when closed (`close()`, `return()`, `break`,
 * the signal, or the router's `close()`). Changes not yet read are folded into one (from the
 * oldest previous version to the newest version), so a slow reader holds at most one.
 */
export interface WatchIterator extends AsyncIterableIterator<VersionChange>, Watch {}

/** Each wait between two probes is shortened by up to this fraction at random. */
export const JITTER = 0.2;
const DEFAULT_INTERVAL_MS = 30_000;
/** setTimeout's largest delay. */
const MAX_INTERVAL_MS = 2_147_483_647;

/** What the watches need from the router. */
export interface WatchHost {
  /** The levels a validated ref is looked up at, climbing (throws a typed error when no rule serves it). */
  levels(ref: SecretRef): readonly PlannedLevel[];
  /** Drops the cached entries of `ref` in every resolver. */
  invalidate(ref: SecretRef): void;
  /** Sends one event to the audit sink (its failures are the router's to count). */
  audit(event: AuditEvent): void;
}

/** The caching resolver's probe (see `probe` in cache.ts). */
interface ProbingResolver {
  probe(ref: SecretRef, signal: AbortSignal): Promise<string | SecretValue>;
}

/** What a level answered at its last probe. */
type LevelState =
  | { readonly kind: "version"; readonly version: string }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly error: SecretsError };

/** What a resolve of a subject's ref returns now: a version at a level, or nothing. */
type Served = { readonly version: string; readonly level: PlannedLevel } | "missing";

interface Watcher {
  readonly listener: WatchListener;
  readonly onError: ((error: SecretsError) => void) | undefined;
  readonly intervalMs: number;
  readonly persistent: boolean;
  /** Called once when the watch ends, however it ends. */
  readonly ended: () => void;
  closed: boolean;
}

/** All the watches of one router. */
export class Watches {
  readonly #subjects = new Map<string, Subject>();
  readonly #pollers = new Map<string, Poller>();
  #closed = false;
  #warned = false;

  constructor(readonly host: WatchHost) {}

  /** `router.watch(ref, listener, options)`. */
  watch(input: SecretRef, listener: WatchListener, options?: WatchOptions): Watch {
    if (typeof listener !== "function")
      throw new ConfigurationError("router.watch: the listener must be a function.");
    return this.#start(input, listener, options, () => {});
  }

  /** `router.watch(ref, options)`: the async-iterator form. */
  iterate(input: SecretRef, options?: WatchOptions): WatchIterator {
    let pending: VersionChange | undefined;
    let waiting: ((result: IteratorResult<VersionChange>) => void) | undefined;
    let ended = false;
    const end = () => {
      ended = true;
      pending = undefined;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    };
    const watch = this.#start(
      input,
      (change) => {
        if (waiting) {
          const wake = waiting;
          waiting = undefined;
          wake({ value: change, done: false });
        } else pending = pending ? folded(pending, change) : change;
      },
      options,
      end,
    );
    const iterator: WatchIterator = {
      next() {
        if (pending) {
          const value = pending;
          pending = undefined;
          return Promise.resolve({ value, done: false });
        }
        if (ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          waiting = resolve;
        });
      },
      return() {
        watch.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
      close: () => watch.close(),
      get closed() {
        return watch.closed;
      },
    };
    return iterator;
  }

  /** Ends every watch (the router closes). */
  close(): void {
    this.#closed = true;
    for (const subject of [...this.#subjects.values()]) subject.closeAll();
  }

  #start(
    input: SecretRef,
    listener: WatchListener,
    options: WatchOptions | undefined,
    ended: () => void,
  ): Watch {
    const settings = checkOptions(options);
    if (this.#closed) throw new ConfigurationError("router.watch: the router is closed.");
    const ref = validateRef(input); // a frozen copy
    const inherit = settings.inherit !== false;
    const key = `${inherit ? "i" : "o"}|${refId(ref)}`;
    let subject = this.#subjects.get(key);
    const levels = subject ? undefined : this.host.levels(ref);
    const signal = settings.signal;
    if (signal?.aborted) {
      ended();
      return { close() {}, closed: true };
    }
    if (!subject) {
      const all = levels as readonly PlannedLevel[];
      subject = new Subject(this, key, ref, inherit ? all : all.slice(0, 1));
      this.#subjects.set(key, subject);
    }
    const target = subject;
    const close = () => target.remove(watcher);
    const watcher: Watcher = {
      listener,
      onError: settings.onError,
      intervalMs: settings.intervalMs ?? DEFAULT_INTERVAL_MS,
      persistent: settings.persistent !== false,
      // However the watch ends (close, its signal, the router's close), it leaves the signal.
      ended: () => {
        signal?.removeEventListener("abort", close);
        ended();
      },
      closed: false,
    };
    subject.add(watcher);
    signal?.addEventListener("abort", close, { once: true });
    return {
      close,
      get closed() {
        return watcher.closed;
      },
    };
  }

  /** @internal The shared poller of a level, created on first use. */
  poller(level: PlannedLevel): Poller {
    // Injective: a backend's name may hold `|` (any YAML key), and ids do (refId).
    const key = JSON.stringify([level.rule.backend, level.id]);
    let poller = this.#pollers.get(key);
    if (!poller) {
      poller = new Poller(level, () => this.#pollers.delete(key));
      this.#pollers.set(key, poller);
    }
    return poller;
  }

  /** @internal */
  forget(subject: Subject): void {
    if (this.#subjects.get(subject.key) === subject) this.#subjects.delete(subject.key);
  }

  /**
   * @internal Calls a listener or `onError`. Its failure is the caller's code, and its message may
   * hold anything (a value, even), so it is not shown: one warning says it happened.
   */
  deliver<T>(callback: (arg: T) => void | Promise<void>, arg: T): void {
    const failed = () => {
      if (this.#warned) return;
      this.#warned = true;
      process.emitWarning(
        "Keyway: a watch listener or onError threw; watching goes on (its error is not shown: it may hold a value).",
        "KeywayWarning",
      );
    };
    try {
      const pending = callback(arg);
      if (pending && typeof pending.then === "function") pending.then(undefined, failed);
    } catch {
      failed();
    }
  }
}

/** One watched ref: its levels, what serves it, and its watchers. */
class Subject {
  readonly #watchers = new Set<Watcher>();
  /** The last state of each level probed so far (by level index). */
  readonly #states: Array<LevelState | undefined> = [];
  /** The level indexes this subject polls now. */
  readonly #polled = new Map<number, Poller>();
  /** What serves the ref, as last known; `undefined` until first known (the baseline). */
  #served: Served | undefined;

  constructor(
    readonly watches: Watches,
    readonly key: string,
    readonly ref: SecretRef,
    readonly levels: readonly PlannedLevel[],
  ) {}

  /** The shortest interval its watchers asked for. */
  get intervalMs(): number {
    let ms = Number.POSITIVE_INFINITY;
    for (const w of this.#watchers) ms = Math.min(ms, w.intervalMs);
    return ms;
  }

  get persistent(): boolean {
    for (const w of this.#watchers) if (w.persistent) return true;
    return false;
  }

  add(watcher: Watcher): void {
    this.#watchers.add(watcher);
    if (this.#polled.size === 0) this.#poll(0);
    else for (const poller of this.#polled.values()) poller.reschedule();
  }

  remove(watcher: Watcher): void {
    if (watcher.closed) return;
    watcher.closed = true;
    this.#watchers.delete(watcher);
    watcher.ended();
    if (this.#watchers.size > 0) return;
    for (const [index, poller] of this.#polled) poller.unsubscribe(this, index);
    this.#polled.clear();
    this.watches.forget(this);
  }

  closeAll(): void {
    for (const watcher of [...this.#watchers]) this.remove(watcher);
  }

  /** A level's poller answered. */
  update(index: number, state: LevelState): void {
    if (this.#watchers.size === 0 || !this.#polled.has(index)) return;
    this.#states[index] = state;
    if (state.kind === "error") {
      for (const w of [...this.#watchers]) if (w.onError) this.watches.deliver(w.onError, state.error);
    }
    this.#evaluate();
  }

  /** Walks the levels from the nearest: the first holding the ref serves it, if every level below answered. */
  #evaluate(): void {
    for (let i = 0; i < this.levels.length; i++) {
      const state = this.#states[i];
      if (state === undefined || !this.#polled.has(i)) {
        this.#poll(i); // not asked yet: its answer evaluates again
        return;
      }
      if (state.kind === "error") return; // unknown: no change can be told
      if (state.kind === "version") {
        for (const [index, poller] of [...this.#polled]) {
          if (index <= i) continue;
          poller.unsubscribe(this, index);
          this.#polled.delete(index);
          this.#states[index] = undefined;
        }
        this.#settle({ version: state.version, level: this.levels[i] as PlannedLevel });
        return;
      }
    }
    this.#settle("missing");
  }

  #poll(index: number): void {
    const level = this.levels[index];
    if (!level || this.#polled.has(index)) return;
    const poller = this.watches.poller(level);
    this.#polled.set(index, poller);
    poller.subscribe(this, index);
  }

  #settle(next: Served): void {
    const before = this.#served;
    this.#served = next;
    if (before === undefined || sameServed(before, next)) return;
    const change: VersionChange = Object.freeze({
      ref: this.ref,
      version: next === "missing" ? undefined : next.version,
      previousVersion: before === "missing" ? undefined : before.version,
      foundIn: next === "missing" ? undefined : next.level.foundIn,
      previousFoundIn: before === "missing" ? undefined : before.level.foundIn,
      backend: next === "missing" ? undefined : next.level.rule.backend,
    });
    // First the cache (no stale value once a listener hears of the change), then the records.
    const host = this.watches.host;
    for (const level of this.levels) host.invalidate(level.ref);
    const { tenant, namespace, key } = this.ref;
    const previousBackend = before === "missing" ? undefined : before.level.rule.backend;
    publish(
      channels.change,
      (): ChangeEvent => ({
        tenant,
        namespace,
        key,
        version: change.version,
        previousVersion: change.previousVersion,
        foundIn: change.foundIn,
        previousFoundIn: change.previousFoundIn,
        backend: change.backend,
        previousBackend,
      }),
    );
    host.audit({
      time: new Date().toISOString(),
      tenant,
      namespace,
      key,
      backend: change.backend ?? previousBackend,
      foundIn: change.foundIn,
      executionId: undefined,
      outcome: "ok",
      kind: "change",
      version: change.version,
      previousVersion: change.previousVersion,
    });
    for (const w of [...this.#watchers]) if (!w.closed) this.watches.deliver(w.listener, change);
  }
}

/** The one poll of a (backend, level): probes on a jittered timer while any subject listens. */
class Poller {
  readonly #subscribers = new Map<Subject, number>();
  readonly #controller = new AbortController();
  #last: LevelState | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The wait under way: when it started, its jitter factor, and when it ends. */
  #wait = { from: 0, factor: 1, until: 0 };
  #probing = false;
  /** The fallback's comparison of values without a version: a keyed digest and a change count. */
  #digest: { key: Buffer; last: string; count: number } | undefined;

  constructor(
    readonly level: PlannedLevel,
    readonly stopped: () => void,
  ) {}

  subscribe(subject: Subject, index: number): void {
    this.#subscribers.set(subject, index);
    if (this.#subscribers.size === 1 && !this.#probing && this.#timer === undefined) {
      // The first subscriber: probe now, for the baseline.
      this.#timer = setTimeout(() => void this.#tick(), 0);
      this.#keepAlive();
    } else {
      // Join the shared poll: the last answer now, without a probe of its own.
      const last = this.#last;
      if (last) queueMicrotask(() => subject.update(index, last));
      this.reschedule();
    }
  }

  unsubscribe(subject: Subject, index: number): void {
    if (this.#subscribers.get(subject) !== index) return;
    this.#subscribers.delete(subject);
    if (this.#subscribers.size > 0) {
      this.reschedule();
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller.abort();
    this.stopped();
  }

  /**
   * A subscriber came or left: the keep-alive may differ, and a shorter interval asked for now
   * shortens the wait under way (a longer one applies from the next wait).
   */
  reschedule(): void {
    if (this.#timer !== undefined && this.#wait.until > 0) {
      const until = this.#wait.from + this.#intervalMs() * this.#wait.factor;
      if (until < this.#wait.until) this.#waitUntil(until);
    }
    this.#keepAlive();
  }

  #intervalMs(): number {
    let interval = Number.POSITIVE_INFINITY;
    for (const subject of this.#subscribers.keys()) interval = Math.min(interval, subject.intervalMs);
    return interval;
  }

  #waitUntil(until: number): void {
    clearTimeout(this.#timer);
    this.#wait.until = until;
    this.#timer = setTimeout(() => void this.#tick(), Math.max(1, Math.round(until - performance.now())));
  }

  #keepAlive(): void {
    let persistent = false;
    for (const subject of this.#subscribers.keys()) persistent ||= subject.persistent;
    if (persistent) this.#timer?.ref();
    else this.#timer?.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    this.#wait.until = 0;
    if (this.#subscribers.size === 0) return;
    this.#probing = true;
    // A pending probe keeps no process alive by itself: the keep-alive timer is the next wait.
    const state = await this.#probe();
    this.#probing = false;
    if (this.#subscribers.size === 0) return;
    this.#last = state;
    for (const [subject, index] of [...this.#subscribers]) subject.update(index, state);
    if (this.#subscribers.size === 0) return;
    const from = performance.now();
    const factor = 1 - JITTER * Math.random();
    this.#wait = { from, factor, until: 0 };
    this.#waitUntil(from + this.#intervalMs() * factor);
    this.#keepAlive();
  }

  async #probe(): Promise<LevelState> {
    const resolver = this.level.resolver as unknown as ProbingResolver;
    try {
      const answer = await resolver.probe(this.level.ref, this.#controller.signal);
      if (typeof answer === "string") return { kind: "version", version: answer };
      if (answer.metadata.version !== undefined) return { kind: "version", version: answer.metadata.version };
      return { kind: "version", version: await this.#digestVersion(answer) };
    } catch (error) {
      if (error instanceof SecretNotFoundError) return { kind: "missing" };
      return { kind: "error", error: error as SecretsError };
    }
  }

  /** A value without a version: its count of changes, told apart by a digest kept only here. */
  async #digestVersion(value: SecretValue): Promise<string> {
    const { createHmac, randomBytes } = await import("node:crypto");
    this.#digest ??= { key: randomBytes(32), last: "", count: 0 };
    const digest = this.#digest;
    const now = createHmac("sha256", digest.key).update(value.revealBytes()).digest("base64");
    if (now !== digest.last) {
      digest.last = now;
      digest.count++;
    }
    return String(digest.count);
  }
}

function sameServed(a: Served, b: Served): boolean {
  if (a === "missing" || b === "missing") return a === b;
  return a.version === b.version && a.level === b.level;
}

/** Two changes not yet read, as one: from the first's previous state to the second's state. */
function folded(first: VersionChange, second: VersionChange): VersionChange | undefined {
  const merged = {
    ...second,
    previousVersion: first.previousVersion,
    previousFoundIn: first.previousFoundIn,
  };
  const back = merged.version === merged.previousVersion && merged.foundIn === merged.previousFoundIn;
  return back ? undefined : Object.freeze(merged);
}

function checkOptions(options: WatchOptions | undefined): WatchOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null)
    throw new ConfigurationError("router.watch: options must be an object.");
  const { intervalMs, inherit, onError, signal, persistent } = options;
  if (
    intervalMs !== undefined &&
    (typeof intervalMs !== "number" ||
      !Number.isInteger(intervalMs) ||
      intervalMs < 1 ||
      intervalMs > MAX_INTERVAL_MS)
  )
    throw new ConfigurationError(
      `router.watch: 'intervalMs' must be a whole number of milliseconds from 1 to ${MAX_INTERVAL_MS}.`,
    );
  if (onError !== undefined && typeof onError !== "function")
    throw new ConfigurationError("router.watch: 'onError' must be a function.");
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new ConfigurationError("router.watch: 'signal' must be an AbortSignal.");
  for (const [name, flag] of [
    ["inherit", inherit],
    ["persistent", persistent],
  ] as const)
    if (flag !== undefined && typeof flag !== "boolean")
      throw new ConfigurationError(`router.watch: '${name}' must be a boolean.`);
  return options;
}
