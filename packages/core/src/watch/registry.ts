/**
 * All the watches of one router: which subject each ref's watchers share, which poll each
 * (backend, level) shares, and which push channel each backend with `subscribe` shares.
 */
import type { SecretBackend } from "../backend.js";
import { ConfigurationError } from "../errors.js";
import { refId, type SecretRef, validateRef } from "../ref.js";
import type { WatchHost, WatchLevel } from "./host.js";
import { iterateWatch } from "./iterator.js";
import {
  checkOptions,
  DEFAULT_INTERVAL_MS,
  type Watch,
  type WatchIterator,
  type WatchListener,
  type WatchOptions,
} from "./options.js";
import { Poller } from "./poller.js";
import { PushSource } from "./push.js";
import { Subject, type SubjectContext, type Watcher } from "./subject.js";

export class Watches implements SubjectContext {
  readonly #subjects = new Map<string, Subject>();
  readonly #pollers = new Map<string, Poller>();
  readonly #pushes = new Map<string, PushSource>();
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
    return iterateWatch((listener, ended) => this.#start(input, listener, options, ended));
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
      const all = levels as readonly WatchLevel[];
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

  /** The shared poll of a level, created on first use (with its backend's push channel, if any). */
  poller(level: WatchLevel): Poller {
    // Injective: a backend's name may hold `|` (any YAML key), and ids do (refId).
    const key = JSON.stringify([level.backend, level.id]);
    let poller = this.#pollers.get(key);
    if (!poller) {
      poller = new Poller(level, this.#push(level.backend), () => this.#pollers.delete(key));
      this.#pollers.set(key, poller);
    }
    return poller;
  }

  /** The push channel of a backend that has `subscribe`, shared by all its polls. */
  #push(name: string): PushSource | undefined {
    let source = this.#pushes.get(name);
    if (source) return source;
    const backend = this.host.backend(name);
    if (typeof backend?.subscribe !== "function") return undefined;
    const subscribing = backend as SecretBackend & Required<Pick<SecretBackend, "subscribe">>;
    source = new PushSource(subscribing, this.host.timeoutMs(), () => {
      if (this.#pushes.get(name) === source) this.#pushes.delete(name);
    });
    this.#pushes.set(name, source);
    return source;
  }

  forget(subject: Subject): void {
    if (this.#subjects.get(subject.key) === subject) this.#subjects.delete(subject.key);
  }

  /**
   * Calls a listener or `onError`. Its failure is the caller's code, and its message may hold
   * anything (a value, even), so it is not shown: one warning says it happened.
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
