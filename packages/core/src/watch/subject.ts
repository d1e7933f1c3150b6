/**
 * One watched ref: its levels, what serves it now, and its watchers. It listens to the polls of
 * its levels from the nearest up to the first that holds the ref, and on a change drops the cached
 * entries, publishes, audits and tells its watchers, in that order.
 */
import type { SecretsError } from "../errors.js";
import type { SecretRef } from "../ref.js";
import { type ChangeEvent, channels, publish } from "../telemetry.js";
import type { WatchHost, WatchLevel } from "./host.js";
import type { VersionChange, WatchListener } from "./options.js";
import type { LevelListener, LevelState, Poller } from "./poller.js";

/** One `router.watch` call. */
export interface Watcher {
  readonly listener: WatchListener;
  readonly onError: ((error: SecretsError) => void) | undefined;
  readonly intervalMs: number;
  readonly persistent: boolean;
  /** Called once when the watch ends, however it ends. */
  readonly ended: () => void;
  closed: boolean;
}

/** What a subject needs from the watches that hold it (registry.ts). */
export interface SubjectContext {
  readonly host: WatchHost;
  /** The shared poll of a level, created on first use. */
  poller(level: WatchLevel): Poller;
  /** The subject has no watcher left. */
  forget(subject: Subject): void;
  /** Calls a listener or `onError`, never letting its failure through. */
  deliver<T>(callback: (arg: T) => void | Promise<void>, arg: T): void;
}

/** What a resolve of a subject's ref returns now: a version at a level, or nothing. */
type Served = { readonly version: string; readonly level: WatchLevel } | "missing";

export class Subject implements LevelListener {
  readonly #watchers = new Set<Watcher>();
  /** The last state of each level probed so far (by level index). */
  readonly #states: Array<LevelState | undefined> = [];
  /** The level indexes this subject polls now. */
  readonly #polled = new Map<number, Poller>();
  /** What serves the ref, as last known; `undefined` until first known (the baseline). */
  #served: Served | undefined;

  constructor(
    readonly context: SubjectContext,
    readonly key: string,
    readonly ref: SecretRef,
    readonly levels: readonly WatchLevel[],
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
    this.context.forget(this);
  }

  closeAll(): void {
    for (const watcher of [...this.#watchers]) this.remove(watcher);
  }

  /** A level's poll answered. */
  update(index: number, state: LevelState): void {
    if (this.#watchers.size === 0 || !this.#polled.has(index)) return;
    this.#states[index] = state;
    if (state.kind === "error") {
      for (const w of [...this.#watchers]) if (w.onError) this.context.deliver(w.onError, state.error);
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
        this.#settle({ version: state.version, level: this.levels[i] as WatchLevel });
        return;
      }
    }
    this.#settle("missing");
  }

  #poll(index: number): void {
    const level = this.levels[index];
    if (!level || this.#polled.has(index)) return;
    const poller = this.context.poller(level);
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
      backend: next === "missing" ? undefined : next.level.backend,
    });
    // First the cache (no stale value once a listener hears of the change), then the records.
    const host = this.context.host;
    for (const level of this.levels) host.invalidate(level.ref);
    const { tenant, namespace, key } = this.ref;
    const previousBackend = before === "missing" ? undefined : before.level.backend;
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
    for (const w of [...this.#watchers]) if (!w.closed) this.context.deliver(w.listener, change);
  }
}

function sameServed(a: Served, b: Served): boolean {
  if (a === "missing" || b === "missing") return a === b;
  return a.version === b.version && a.level === b.level;
}
