/**
 * Value redaction: every registered secret, and the forms it takes in logs (lines, JSON leaves,
 * base64 in all its variants, hex, JSON-, XML- and URL-escaped), is replaced by a fixed mask in
 * text, log records, errors and streams.
 */
import { Buffer } from "node:buffer";
import type { Transform } from "node:stream";
import { ConfigurationError } from "../errors.js";
import { MASK, type SecretValue } from "../value.js";
import { redactDeep, redactError } from "./deep.js";
import { MatchEngine } from "./engine.js";
import { derivedForms, plainFormsOf } from "./forms.js";
import { redactingStream } from "./stream.js";
import type { Redactor, RegisterOptions } from "./types.js";

export { type DerivedForms, derivedForms } from "./forms.js";
export {
  type PinoRedactionHooks,
  pinoRedactionHooks,
  redactingDestination,
  redactProcessOutput,
  type WinstonRedactFormat,
  type WriteTarget,
  winstonRedactFormat,
} from "./integrations.js";
export type { Redactor, RegisterOptions } from "./types.js";

/** Options of {@link createRedactor}. */
export interface RedactorOptions {
  /**
   * What replaces a secret. Fixed, so the mask does not tell the secret's length (Kestra #8131).
   * @default "******"
   */
  mask?: string | undefined;
  /**
   * Forms shorter than this are never masked (masking `a` would mask every `a`: GitHub runner #326);
   * registering a value this short warns, naming its key.
   * @default 4
   */
  minLength?: number | undefined;
  /**
   * Forms at least this long are masked anywhere. Shorter plain forms (the value, a line, a JSON
   * leaf) are masked only as whole words; shorter encoded forms are not masked.
   * @default 8
   */
  anywhereLength?: number | undefined;
  /**
   * How many distinct values stay registered; the oldest registration goes first. Rotated-out
   * values stay masked until then.
   * @default 10_000
   */
  maxValues?: number | undefined;
  /**
   * How long a value stays registered after its last `register` call. Registering again refreshes
   * it, so register values on every use, not only when first fetched (the resolver registers a
   * cached value again when this redactor dropped any registration since, or half of this passed).
   * `Infinity` keeps values until `maxValues` pushes them out.
   * @default 86_400_000 (24 hours)
   */
  maxAgeMs?: number | undefined;
  /**
   * The clock registrations age by (milliseconds), e.g. a fake one in tests.
   * @default Date
   */
  clock?: { now(): number } | undefined;
  /**
   * Receives warnings (a value too short to mask). Messages name the key, never the value.
   * @default `process.emitWarning` with code `KEYWAY_SHORT_SECRET`
   */
  onWarning?: ((message: string) => void) | undefined;
}

interface Registration {
  at: number;
  excludeJsonKeys: readonly string[] | undefined;
}

class DefaultRedactor implements Redactor {
  readonly mask: string;
  readonly #engine: MatchEngine;
  /** The same patterns as UTF-8 bytes, for streams; built on the first `stream()` call. */
  #byteEngine: MatchEngine | undefined;
  readonly #anywhereLength: number;
  readonly #minLength: number;
  readonly #maxValues: number;
  readonly #maxAgeMs: number;
  readonly #onWarning: (message: string) => void;
  /** Keyed by `t` + text or `b` + base64 of a binary value; in registration order, oldest first. */
  readonly #values = new Map<string, Registration>();
  #nextExpiry = Number.POSITIVE_INFINITY;
  readonly #clock: { now(): number };
  /** Counts the registrations dropped so far (see {@link Redactor.generation}). */
  #generation = 0;
  /**
   * Registrations whose forms are not in the engines yet. Deriving a value's forms (its encodings,
   * lines, JSON leaves: hundreds for a credential) is the costly part of registering, so it waits
   * for the first call that matches (`redact`, a stream): a process that registers and never
   * redacts (`keyway get`) does not pay for it (`npm run bench -- --only=cli-startup`).
   */
  readonly #pending = new Set<string>();

  constructor(options: RedactorOptions) {
    this.mask = options.mask ?? MASK;
    this.#minLength = integerOption("minLength", options.minLength, 4, 2);
    const anywhere = integerOption("anywhereLength", options.anywhereLength, 8, 4);
    this.#maxValues = integerOption("maxValues", options.maxValues, 10_000, 1);
    this.#maxAgeMs = options.maxAgeMs ?? 86_400_000;
    this.#clock = options.clock ?? Date;
    if (!(this.#maxAgeMs > 0))
      throw new ConfigurationError("redactor option maxAgeMs must be a positive number");
    if (this.mask.length === 0) throw new ConfigurationError("redactor option mask must not be empty");
    this.#anywhereLength = Math.max(anywhere, this.#minLength);
    this.#engine = new MatchEngine({ anywhereLength: this.#anywhereLength });
    this.#onWarning =
      options.onWarning ?? ((message) => process.emitWarning(message, { code: "KEYWAY_SHORT_SECRET" }));
  }

  get size(): number {
    return this.#values.size;
  }

  get generation(): number {
    return this.#generation;
  }

  get maxAgeMs(): number {
    return this.#maxAgeMs;
  }

  register(value: string | SecretValue, options: RegisterOptions = {}): void {
    const { id, plain } = identify(value);
    if (id === undefined) return; // empty values are never registered (Kestra #10526)
    const now = this.#clock.now();
    this.#expire(now);
    const existing = this.#values.get(id);
    if (existing !== undefined) {
      this.#values.delete(id); // re-inserted below as the newest
      if (sameKeys(existing.excludeJsonKeys, options.excludeJsonKeys)) {
        existing.at = now;
        this.#values.set(id, existing);
        return;
      }
      if (!this.#pending.has(id)) this.#apply(plain, existing.excludeJsonKeys, -1);
    }
    // A copy: eviction derives the same forms again, so the keys must not change meanwhile.
    const excludeJsonKeys = options.excludeJsonKeys && [...options.excludeJsonKeys];
    const tooShort = plainFormsOf(plain, excludeJsonKeys).find((form) => form.length < this.#minLength);
    this.#values.set(id, { at: now, excludeJsonKeys });
    this.#pending.add(id);
    this.#nextExpiry = Math.min(this.#nextExpiry, now + this.#maxAgeMs);
    while (this.#values.size > this.#maxValues) this.#evictOldest();
    if (tooShort !== undefined && existing === undefined) {
      const name = options.key === undefined ? "a secret" : `the secret '${options.key}'`;
      const what = tooShort === plain ? "is" : "has a line or JSON leaf that is";
      this.#onWarning(
        `Keyway: ${name} ${what} shorter than ${this.#minLength} characters, so it is not masked in logs.`,
      );
    }
  }

  redact(text: string): string {
    if (this.#values.size === 0) return text;
    this.#expire(this.#clock.now());
    this.#flush();
    return this.#engine.redact(text, this.mask);
  }

  redactDeep<T>(value: T): T {
    return redactDeep(this, value);
  }

  redactError<E extends Error>(error: E): E {
    return redactError(this, error);
  }

  stream(): Transform {
    this.#flush();
    if (this.#byteEngine === undefined) {
      this.#byteEngine = new MatchEngine({ anywhereLength: this.#anywhereLength, encoding: "utf8" });
      for (const [id, registration] of this.#values)
        this.#apply(plainOf(id), registration.excludeJsonKeys, 1, [this.#byteEngine]);
    }
    const engine = this.#byteEngine;
    return redactingStream({
      mask: Buffer.from(this.mask, "utf8"),
      pendingFrom: (bytes, from) => {
        this.#flush();
        return engine.pendingFrom(bytes, from);
      },
      ranges: (bytes, from, openEnd) => {
        this.#expire(this.#clock.now());
        this.#flush();
        return engine.ranges(bytes, from, openEnd);
      },
    });
  }

  /**
   * Adds (`delta` 1) or removes (-1) the forms of a value that the short-secret policy keeps, in
   * `engines` (by default all: the text one, and the byte one once a stream exists). Returns the
   * first plain form too short to mask, if any.
   */
  #apply(
    value: string | Uint8Array,
    excludeJsonKeys: readonly string[] | undefined,
    delta: 1 | -1,
    engines: readonly MatchEngine[] = this.#byteEngine ? [this.#engine, this.#byteEngine] : [this.#engine],
  ): string | undefined {
    const { plain, encoded } = derivedForms(value, excludeJsonKeys);
    let tooShort: string | undefined;
    const kept: string[] = [];
    for (const form of plain) {
      if (form.length < this.#minLength) tooShort ??= form;
      else kept.push(form);
    }
    for (const form of encoded) if (form.length >= this.#anywhereLength) kept.push(form);
    for (const engine of engines)
      for (const form of kept) {
        if (delta > 0) engine.add(form);
        else engine.remove(form);
      }
    return tooShort;
  }

  /** Puts the forms of every registration still pending into the engines. */
  #flush(): void {
    if (this.#pending.size === 0) return;
    for (const id of this.#pending) {
      const registration = this.#values.get(id);
      if (registration !== undefined) this.#apply(plainOf(id), registration.excludeJsonKeys, 1);
    }
    this.#pending.clear();
  }

  #expire(now: number): void {
    if (now < this.#nextExpiry) return;
    for (const registration of this.#values.values()) {
      if (registration.at + this.#maxAgeMs > now) break;
      this.#evictOldest();
    }
    const oldest = this.#values.values().next();
    this.#nextExpiry = oldest.done ? Number.POSITIVE_INFINITY : oldest.value.at + this.#maxAgeMs;
  }

  #evictOldest(): void {
    const oldest = this.#values.entries().next();
    if (oldest.done) return;
    const [id, registration] = oldest.value;
    this.#values.delete(id);
    this.#generation++;
    // A registration never used has no forms in the engines to remove.
    if (!this.#pending.delete(id)) this.#apply(plainOf(id), registration.excludeJsonKeys, -1);
  }
}

/** The registration id of a value and what its forms are derived from; no id for an empty value. */
function identify(value: string | SecretValue): { id: string | undefined; plain: string | Uint8Array } {
  if (typeof value === "string") return { id: value.length > 0 ? `t${value}` : undefined, plain: value };
  let text: string;
  try {
    text = value.reveal();
  } catch {
    // A binary value that is not UTF-8: only its byte encodings can reach a log.
    const bytes = value.revealBytes();
    return { id: bytes.length > 0 ? `b${Buffer.from(bytes).toString("base64")}` : undefined, plain: bytes };
  }
  return { id: text.length > 0 ? `t${text}` : undefined, plain: text };
}

function plainOf(id: string): string | Uint8Array {
  return id.startsWith("t") ? id.slice(1) : new Uint8Array(Buffer.from(id.slice(1), "base64"));
}

function sameKeys(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (a ?? []).join("\0") === (b ?? []).join("\0");
}

function integerOption(name: string, value: number | undefined, fallback: number, min: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < min)
    throw new ConfigurationError(`redactor option ${name} must be an integer >= ${min}`);
  return n;
}

/**
 * A redactor. Each one is independent: give each tenant (or each execution) its own, so one
 * tenant's log output can never be used to test guesses against another tenant's secrets.
 * @example
 * const redactor = createRedactor();
 * redactor.register(secret, { key: "DB_PASSWORD" });
 * logger.info(redactor.redact(`connecting with ${secret.reveal()}`)); // "connecting with ******"
 */
export function createRedactor(options: RedactorOptions = {}): Redactor {
  return new DefaultRedactor(options);
}

/** A process-wide redactor with the default options, for single-tenant processes only. */
export const globalRedactor: Redactor = createRedactor();
