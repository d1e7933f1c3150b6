/**
 * `SecretValue`: a secret that is masked by construction. Printing, logging, serializing or
 * inspecting it shows `******`; the plaintext is an explicit `reveal()`.
 */

/** The mask shown wherever a secret would otherwise be printed. */
export const MASK = "******";

/** What a backend knows about a secret besides its value. Never holds the value. */
export interface SecretMetadata {
  description?: string | undefined;
  tags?: Readonly<Record<string, string>> | undefined;
  /** The backend's version id or stage of the value returned. */
  version?: string | undefined;
  /** When the value was last written, if the backend says. */
  updatedAt?: Date | undefined;
}

const inspectSymbol = Symbol.for("nodejs.util.inspect.custom");
const NO_METADATA: Readonly<SecretMetadata> = Object.freeze({});

function isEmpty(metadata: SecretMetadata): boolean {
  for (const key in metadata) if ((metadata as Record<string, unknown>)[key] !== undefined) return false;
  return true;
}
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A resolved secret. Text or bytes; `isBinary` tells which the backend stored. */
export class SecretValue {
  readonly #text: string | undefined;
  readonly #bytes: Uint8Array | undefined;
  /** True when the backend stored bytes rather than text. */
  readonly isBinary: boolean;
  readonly metadata: Readonly<SecretMetadata>;
  /** True when served from cache past its TTL because the backend was unavailable. */
  readonly stale: boolean;

  private constructor(
    text: string | undefined,
    bytes: Uint8Array | undefined,
    metadata: SecretMetadata,
    stale: boolean,
  ) {
    this.#text = text;
    this.#bytes = bytes;
    this.isBinary = bytes !== undefined;
    // Most values carry no metadata: one shared frozen object saves ~56 bytes per cached secret.
    this.metadata = isEmpty(metadata) ? NO_METADATA : Object.freeze({ ...metadata });
    this.stale = stale;
  }

  static fromText(text: string, metadata: SecretMetadata = {}): SecretValue {
    return new SecretValue(text, undefined, metadata, false);
  }

  static fromBytes(bytes: Uint8Array, metadata: SecretMetadata = {}): SecretValue {
    return new SecretValue(undefined, Uint8Array.from(bytes), metadata, false);
  }

  /** The same value marked as served stale. */
  asStale(): SecretValue {
    return new SecretValue(this.#text, this.#bytes, this.metadata, true);
  }

  /**
   * The plaintext. For a binary secret, its bytes read as strict UTF-8.
   * @throws TypeError when a binary secret is not valid UTF-8 (use {@link revealBytes}).
   */
  reveal(): string {
    if (this.#text !== undefined) return this.#text;
    return decoder.decode(this.#bytes);
  }

  /** The plaintext as bytes (UTF-8 for a text secret); a fresh copy each call. */
  revealBytes(): Uint8Array {
    return this.#bytes !== undefined ? Uint8Array.from(this.#bytes) : new TextEncoder().encode(this.#text);
  }

  /** Size in bytes of the plaintext. */
  get byteLength(): number {
    return this.#bytes !== undefined ? this.#bytes.byteLength : Buffer.byteLength(this.#text ?? "", "utf8");
  }

  toString(): string {
    return MASK;
  }

  toJSON(): string {
    return MASK;
  }

  [inspectSymbol](): string {
    return `SecretValue(${MASK})`;
  }

  [Symbol.toPrimitive](): string {
    return MASK;
  }
}
