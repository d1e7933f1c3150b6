/**
 * Keeping cached values registered with the redactor (trust issue #18 point 3): a cached value is
 * returned on every hit, and the redactor forgets registrations nobody renews, so a hit renews
 * them, cheaply: only when the redactor may have dropped the value (its `generation` moved since
 * the value was registered) or half its `maxAgeMs` has passed.
 */
import type { Redactor } from "../redact/types.js";
import type { SecretRef } from "../ref.js";
import type { SecretValue } from "../value.js";
import { type Entry, hotBound, type LiveValue } from "./entry.js";

/** The registration clock of one resolver's entries (times are the cache's clock). */
export class Registrations {
  /**
   * How long after registering a value a hit registers it again: half the redactor's `maxAgeMs`,
   * so a value returned stays registered at least that long after. A redactor that does not say
   * when it drops registrations (no `generation`): 0, every hit registers.
   */
  readonly renewAfter: number;
  /** The redactor's `generation` when last read; a change means it dropped some registrations. */
  generation: number | undefined;
  /** When the redactor was last seen dropping registrations: values registered by then are registered again at their next hit. */
  forgottenAt = -1;

  constructor(readonly redactor: Redactor) {
    this.generation = redactor.generation;
    this.renewAfter =
      typeof this.generation === "number" ? Math.floor((redactor.maxAgeMs ?? Infinity) / 2) : 0;
  }

  /** Whether a live value entry must be registered again before it is returned. */
  due(entry: Entry, now: number): boolean {
    if (this.redactor.generation !== this.generation) this.forgot(now);
    return entry.registeredAt <= this.forgottenAt || now - entry.registeredAt >= this.renewAfter;
  }

  /** The redactor dropped registrations, which ones is not known: every value is due at its next hit. */
  forgot(now: number): void {
    this.generation = this.redactor.generation;
    this.forgottenAt = now;
  }

  register(ref: SecretRef, entry: LiveValue, now: number): void {
    this.registerValue(ref, entry.value, now);
    entry.registeredAt = this.time(now);
  }

  /**
   * Registers a value about to be returned. What this registration drops (the oldest values, past
   * `maxValues`) is seen at once, so only the values registered before it are due again, not this one.
   */
  registerValue(ref: SecretRef, value: SecretValue, now: number): void {
    this.redactor.register(value, { key: ref.key });
    if (this.redactor.generation !== this.generation) this.forgot(now);
  }

  /** A registration time after the last drop seen, so a value registered again is not due again at once. */
  time(now: number): number {
    return Math.max(now, this.forgottenAt + 1);
  }

  /**
   * The hot bound of a value entry (see `Entry.hotUntil`) registered at `registeredAt`: never past
   * its renewal time.
   */
  hotUntil(
    value: SecretValue,
    start: number,
    expiresAt: number,
    freshUntil: number,
    refreshWindow: number,
    registeredAt: number,
  ): number {
    return Math.min(
      hotBound(value, start, expiresAt, freshUntil, refreshWindow),
      registeredAt + this.renewAfter,
    );
  }
}
