/**
 * The one poll of a (backend, level): probes the level's version while any subject listens, on a
 * jittered timer, or, when the backend pushes change events (push.ts), once the push channel
 * listens and then at each change that may affect the level.
 */
import { SecretNotFoundError, type SecretsError } from "../errors.js";
import type { SecretValue } from "../value.js";
import type { WatchLevel } from "./host.js";
import { JITTER, MAX_INTERVAL_MS } from "./options.js";
import type { PushSource, PushTarget } from "./push.js";

/** What a level answered at its last probe. */
export type LevelState =
  | { readonly kind: "version"; readonly version: string }
  | { readonly kind: "missing" }
  | { readonly kind: "error"; readonly error: SecretsError };

/** Who hears a poll's answers (a subject, see subject.ts), at its index of the level. */
export interface LevelListener {
  /** The shortest interval its watchers asked for. */
  readonly intervalMs: number;
  /** Whether one of its watchers keeps the process alive. */
  readonly persistent: boolean;
  update(index: number, state: LevelState): void;
}

/**
 * How a poll learns of changes: `poll`, on its timer; `push`, from the backend's change events;
 * `pending`, while the push channel is being opened (nothing is probed before it listens).
 */
type Mode = "poll" | "push" | "pending";

export class Poller implements PushTarget {
  readonly #listeners = new Map<LevelListener, number>();
  readonly #controller = new AbortController();
  #mode: Mode;
  #started = false;
  #last: LevelState | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The wait under way: when it started, its jitter factor, and when it ends (0: no poll wait). */
  #wait = { from: 0, factor: 1, until: 0 };
  #probing = false;
  /** A change was heard during the probe under way: probe again once it answers. */
  #again = false;
  /** The fallback's comparison of values without a version: a keyed digest and a change count. */
  #digest: { key: Buffer; last: string; count: number } | undefined;

  constructor(
    readonly level: WatchLevel,
    readonly push: PushSource | undefined,
    readonly stopped: () => void,
  ) {
    this.#mode = push ? "pending" : "poll";
  }

  subscribe(listener: LevelListener, index: number): void {
    this.#listeners.set(listener, index);
    if (!this.#started) {
      this.#started = true;
      if (this.push) {
        // The baseline is probed once the channel listens (or fails): pushUp / pushDown.
        this.#idle();
        this.push.attach(this);
      } else this.#probeNow();
      return;
    }
    // Join the shared poll: the last answer now, without a probe of its own.
    const last = this.#last;
    if (last) queueMicrotask(() => listener.update(index, last));
    this.reschedule();
  }

  unsubscribe(listener: LevelListener, index: number): void {
    if (this.#listeners.get(listener) !== index) return;
    this.#listeners.delete(listener);
    if (this.#listeners.size > 0) {
      this.reschedule();
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#controller.abort();
    this.push?.detach(this);
    this.stopped();
  }

  /**
   * A listener came or left: the keep-alive may differ, and a shorter interval asked for now
   * shortens the wait under way (a longer one applies from the next wait).
   */
  reschedule(): void {
    if (this.#timer !== undefined && this.#wait.until > 0) {
      const until = this.#wait.from + this.#intervalMs() * this.#wait.factor;
      if (until < this.#wait.until) this.#waitUntil(until);
    }
    this.#keepAlive();
  }

  pushUp(): void {
    this.#mode = "push";
    this.#probeNow();
  }

  pushDown(): void {
    if (this.#mode === "poll") return;
    this.#mode = "poll";
    this.#probeNow();
  }

  changed(): void {
    if (this.#mode === "push") this.#probeNow();
  }

  #probeNow(): void {
    if (this.#listeners.size === 0) return;
    if (this.#probing) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#wait.until = 0;
    this.#timer = setTimeout(() => void this.#tick(), 0);
    this.#keepAlive();
  }

  #intervalMs(): number {
    let interval = Number.POSITIVE_INFINITY;
    for (const listener of this.#listeners.keys()) interval = Math.min(interval, listener.intervalMs);
    return interval;
  }

  #waitUntil(until: number): void {
    clearTimeout(this.#timer);
    this.#wait.until = until;
    this.#timer = setTimeout(() => void this.#tick(), Math.max(1, Math.round(until - performance.now())));
  }

  /** No poll to wait for (push): a timer that only keeps the process alive for persistent watches. */
  #idle(): void {
    clearTimeout(this.#timer);
    this.#wait.until = 0;
    this.#timer = setTimeout(() => this.#idle(), MAX_INTERVAL_MS);
    this.#keepAlive();
  }

  #keepAlive(): void {
    let persistent = false;
    for (const listener of this.#listeners.keys()) persistent ||= listener.persistent;
    if (persistent) this.#timer?.ref();
    else this.#timer?.unref();
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    this.#wait.until = 0;
    if (this.#listeners.size === 0) return;
    this.#probing = true;
    // A pending probe keeps no process alive by itself: the keep-alive timer is the next wait.
    // Each answer is delivered (the first may be a baseline); a change heard meanwhile probes again.
    let failed = false;
    do {
      this.#again = false;
      const state = await this.#probe();
      if (this.#listeners.size === 0) break;
      this.#last = state;
      failed = state.kind === "error";
      for (const [listener, index] of [...this.#listeners]) listener.update(index, state);
    } while (this.#again && this.#listeners.size > 0);
    this.#probing = false;
    if (this.#listeners.size === 0) return;
    // Pushed changes tell when to look again, but not after a failure: the version is unknown
    // until a probe answers, so a failed probe is retried at the interval, as a poll is.
    if (this.#mode !== "poll" && !failed) {
      this.#idle();
      return;
    }
    const from = performance.now();
    const factor = 1 - JITTER * Math.random();
    this.#wait = { from, factor, until: 0 };
    this.#waitUntil(from + this.#intervalMs() * factor);
    this.#keepAlive();
  }

  async #probe(): Promise<LevelState> {
    try {
      const answer = await this.level.probe(this.#controller.signal);
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
