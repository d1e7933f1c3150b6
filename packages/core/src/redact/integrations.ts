/**
 * Value redaction for pino, winston and raw process output. No logger is imported: these return
 * plain objects of the shapes the loggers accept.
 */
import type { Redactor } from "./types.js";

/** pino's `hooks` option: `pino({ hooks: pinoRedactionHooks(redactor) })`. */
export interface PinoRedactionHooks {
  /** Redacts each serialized line (JSON-escaped forms are registered, so values inside strings match). */
  streamWrite(line: string): string;
}

/**
 * Hooks that make pino redact secret values (pino itself redacts by key path only: pino #1273).
 * @example
 * const logger = pino({ hooks: pinoRedactionHooks(redactor) });
 */
export function pinoRedactionHooks(redactor: Pick<Redactor, "redact">): PinoRedactionHooks {
  return { streamWrite: (line) => redactor.redact(line) };
}

/** Anything with a `write(chunk)` method: a pino destination, a file or process stream. */
export interface WriteTarget {
  write(chunk: never, ...rest: never[]): unknown;
}

/**
 * `dest` with `write` redacting each chunk; every other member (`end`, `flushSync`, events) is the
 * destination's own. Each write is redacted whole, which suits loggers that write one line per call.
 * @example
 * const logger = pino(redactingDestination(redactor, pino.destination(1)));
 */
export function redactingDestination<D extends WriteTarget>(redactor: Pick<Redactor, "redact">, dest: D): D {
  const write = (...args: unknown[]): unknown => writeRedacted(redactor, dest.write as AnyWrite, dest, args);
  return new Proxy(dest, {
    get(target, property) {
      if (property === "write") return write;
      const member: unknown = Reflect.get(target, property, target);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
}

/** A winston format: `{ transform(info) }`, usable in `format.combine(...)`. */
export interface WinstonRedactFormat {
  readonly options: Record<string, never>;
  transform<T extends object>(info: T): T;
}

const LEVEL_KEYS = new Set<PropertyKey>(["level", Symbol.for("level")]);

/**
 * A winston format that redacts the message and every other field of the log entry, including the
 * final line under `Symbol.for("message")`. Put it last in `format.combine(...)` so it also sees the
 * serialized line. Levels are left alone: winston routes on them.
 * @example
 * winston.createLogger({ format: winston.format.combine(winston.format.json(), winstonRedactFormat(redactor)) });
 */
export function winstonRedactFormat(redactor: Pick<Redactor, "redact" | "redactDeep">): WinstonRedactFormat {
  return {
    options: {},
    transform(info) {
      const record = info as Record<PropertyKey, unknown>;
      for (const key of Reflect.ownKeys(info)) {
        if (LEVEL_KEYS.has(key)) continue;
        const v = record[key];
        if (typeof v === "string") record[key] = redactor.redact(v);
        else if (typeof v === "object" && v !== null) record[key] = redactor.redactDeep(v);
      }
      return info;
    },
  };
}

/**
 * Wraps `process.stdout.write` and `process.stderr.write` (or the given streams) so every write is
 * redacted; returns `undo()`. Each write is redacted whole: a secret split across two `write` calls
 * is not caught (raw writes have no line structure to hold back on); pipe through
 * `redactor.stream()` for that.
 */
export function redactProcessOutput(
  redactor: Pick<Redactor, "redact">,
  streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr],
): () => void {
  let active = true;
  const restores = streams.map((stream) => {
    const original = stream.write as AnyWrite;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      return active ? writeRedacted(redactor, original, this, args) : original.apply(this, args);
    } as typeof stream.write;
    stream.write = wrapped;
    return () => {
      // Someone wrapped after us: restoring would drop their wrapper, so only stop redacting.
      if (stream.write === wrapped) stream.write = original as typeof stream.write;
    };
  });
  return () => {
    active = false;
    for (const restore of restores) restore();
  };
}

type AnyWrite = (...args: unknown[]) => unknown;

const TEXT_ENCODINGS = new Set(["utf8", "utf-8", "latin1", "binary", "ascii"]);

/**
 * Calls `write` with `args` (`chunk, encoding?, callback?`), the chunk redacted. When nothing
 * matched, the original chunk (possibly binary) is written untouched.
 */
function writeRedacted(
  redactor: Pick<Redactor, "redact">,
  write: AnyWrite,
  self: unknown,
  args: unknown[],
): unknown {
  const [chunk, encoding, ...rest] = args;
  const isText =
    typeof chunk === "string" && (typeof encoding !== "string" || TEXT_ENCODINGS.has(encoding.toLowerCase()));
  let text: string;
  if (isText) text = chunk;
  else if (typeof chunk === "string") text = Buffer.from(chunk, encoding as BufferEncoding).toString("utf8");
  else if (chunk instanceof Uint8Array)
    text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  else return write.apply(self, args);
  const redacted = redactor.redact(text);
  if (redacted === text) return write.apply(self, args);
  // The redacted text replaces the chunk; a non-text encoding no longer describes it.
  if (typeof encoding !== "string") return write.call(self, redacted, ...args.slice(1));
  return write.call(self, redacted, isText ? encoding : "utf8", ...rest);
}
