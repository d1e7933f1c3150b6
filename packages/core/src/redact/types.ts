/** The redactor's public contract; the engine lives in `engine.ts`. */
import type { Transform } from "node:stream";
import type { SecretValue } from "../value.js";

export interface RegisterOptions {
  /** The secret's key, used in warnings (never the value). */
  key?: string | undefined;
  /** JSON leaves under these keys are not registered on their own (e.g. `user`). */
  excludeJsonKeys?: readonly string[] | undefined;
}

/** Masks every registered secret, and its encoded forms, in text, records, errors and streams. */
export interface Redactor {
  /** The replacement text, `******` by default. */
  readonly mask: string;
  /** Registers a value (once per distinct value; empty values are ignored). */
  register(value: string | SecretValue, options?: RegisterOptions): void;
  /** `text` with every registered form masked. */
  redact(text: string): string;
  /** A redacted deep copy of a log record: objects, arrays, Maps, Sets, Errors (message, stack, cause). */
  redactDeep<T>(value: T): T;
  /** Redacts an error Keyway created, in place (message, stack, cause chain), and returns it. */
  redactError<E extends Error>(error: E): E;
  /**
   * A Transform over UTF-8 bytes (strings written to it are encoded) that masks secrets split across
   * any chunk boundaries, without decoding them; it emits Buffers of whole characters. Each chunk
   * comes out as it arrives, except a possible beginning of a secret at its end, which waits for
   * the next chunk or the end however long the source pauses (see `stream.ts`).
   */
  stream(): Transform;
  /** How many distinct values are registered. */
  readonly size: number;
  /**
   * Changes each time a registration is dropped (`maxValues`, `maxAgeMs`). A cache that registered
   * a value and sees the same generation knows the value is still registered, so it need not
   * register it again on every hit. A redactor without it has every value registered on every use.
   */
  readonly generation?: number | undefined;
  /** How long a registration lasts after its last `register` call (ms); `Infinity`: until `maxValues` drops it. */
  readonly maxAgeMs?: number | undefined;
}
