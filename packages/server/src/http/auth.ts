/** The bearer token, compared in constant time, and the console's cookie sessions. */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Checks presented tokens against the one the server holds, in time that does not depend on them. */
export type TokenCheck = (presented: string | undefined) => boolean;

/**
 * Compares the presented bytes with `timingSafeEqual`, so the time does not depend on how much
 * of the token matches. Only the length can be learnt from the time (a presented token of another
 * length is refused at once); the token's entropy is in its bytes: a generated one is 43
 * characters, and one given by the user must have at least 16.
 */
export function createTokenCheck(token: string): TokenCheck {
  if (token.length < 16) throw new Error("The serve token must be at least 16 characters.");
  const expected = Buffer.from(token, "utf8");
  return (presented) =>
    presented !== undefined &&
    Buffer.byteLength(presented, "utf8") === expected.length &&
    timingSafeEqual(Buffer.from(presented, "utf8"), expected);
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/** A new random token: 32 bytes, base64url. */
export function generateToken(): string {
  return randomBytes(32).toString("base64url");
}

/** One console login: the CSRF token its forms carry. */
export interface ConsoleSession {
  readonly csrf: string;
  readonly expiresAt: number;
}

/** The console's sessions, in memory: a restart logs everyone out, which a local tool can afford. */
export class Sessions {
  readonly #sessions = new Map<string, ConsoleSession>();
  constructor(
    readonly ttlMs = 8 * 60 * 60 * 1000,
    readonly now = () => Date.now(),
  ) {}

  /** Starts a session; returns its id (the cookie's value, random, not the token). */
  create(): { id: string; session: ConsoleSession } {
    if (this.#sessions.size >= 1000) this.#sweep();
    const id = randomBytes(32).toString("base64url");
    const session = { csrf: randomBytes(32).toString("base64url"), expiresAt: this.now() + this.ttlMs };
    this.#sessions.set(id, session);
    return { id, session };
  }

  get(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (session.expiresAt <= this.now()) {
      this.#sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string | undefined): void {
    if (id !== undefined) this.#sessions.delete(id);
  }

  #sweep(): void {
    const now = this.now();
    for (const [id, session] of this.#sessions) if (session.expiresAt <= now) this.#sessions.delete(id);
    // Still full: the oldest go (a Map iterates in insertion order).
    for (const id of this.#sessions.keys()) {
      if (this.#sessions.size < 1000) break;
      this.#sessions.delete(id);
    }
  }
}

const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();

/** Compares two CSRF tokens in constant time (digests: equal lengths whatever was sent). */
export function sameSecret(a: string | undefined | null, b: string): boolean {
  return typeof a === "string" && timingSafeEqual(digest(a), digest(b));
}

/** One cookie's value from a Cookie header. */
export function cookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
