/** Redaction of structured values: log records (copied) and errors Keyway created (in place). */
import { SecretValue } from "../value.js";

/** What deep redaction needs from a redactor. */
export interface TextRedactor {
  readonly mask: string;
  redact(text: string): string;
}

/**
 * A redacted copy of `value`: strings (and object and Map keys) redacted, `SecretValue`s replaced
 * by the mask; objects, arrays, Maps, Sets and Errors (message, stack, cause, `errors`) copied with
 * their prototype; cycles kept. Objects with a `toJSON` are copied as what it returns, which is
 * what a JSON logger would write. Dates, regular expressions and binary data are shared, not copied.
 * The input is never modified.
 */
export function redactDeep<T>(redactor: TextRedactor, value: T): T {
  const seen = new Map<object, unknown>();

  const copy = (v: unknown): unknown => {
    if (typeof v === "string") return redactor.redact(v);
    if (typeof v !== "object" || v === null) return v;
    if (v instanceof SecretValue) return redactor.mask;
    const done = seen.get(v);
    if (done !== undefined) return done;
    if (Array.isArray(v)) {
      const out: unknown[] = [];
      seen.set(v, out);
      for (const item of v) out.push(copy(item));
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<unknown, unknown>();
      seen.set(v, out);
      for (const [k, item] of v) out.set(copy(k), copy(item));
      return out;
    }
    if (v instanceof Set) {
      const out = new Set<unknown>();
      seen.set(v, out);
      for (const item of v) out.add(copy(item));
      return out;
    }
    if (v instanceof Date || v instanceof RegExp || v instanceof ArrayBuffer || ArrayBuffer.isView(v))
      return v;
    if (!(v instanceof Error) && typeof (v as { toJSON?: unknown }).toJSON === "function") {
      const json = (v as { toJSON(): unknown }).toJSON();
      const out = copy(json);
      seen.set(v, out);
      return out;
    }
    const out = Object.create(Object.getPrototypeOf(v)) as Record<PropertyKey, unknown>;
    seen.set(v, out);
    if (v instanceof Error) {
      // Non-enumerable own properties that loggers print; kept non-enumerable as on the original.
      for (const key of ["message", "stack", "cause", "errors"]) {
        if (Object.hasOwn(v, key)) {
          const item = copy((v as unknown as Record<string, unknown>)[key]);
          Object.defineProperty(out, key, {
            value: item,
            writable: true,
            configurable: true,
            enumerable: false,
          });
        }
      }
    }
    for (const key of Reflect.ownKeys(v)) {
      if (!Object.prototype.propertyIsEnumerable.call(v, key)) continue;
      const item = copy((v as Record<PropertyKey, unknown>)[key]);
      // Defined, not assigned: an own `__proto__` key (JSON.parse makes one) stays a key.
      Object.defineProperty(out, typeof key === "string" ? redactor.redact(key) : key, {
        value: item,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
    return out;
  };

  return copy(value) as T;
}

/**
 * Redacts `error` in place: message, stack, string properties, and the same on each error of its
 * `cause` chain and `errors` list; a cause that is not an error is replaced by a redacted copy.
 */
export function redactError<E extends Error>(redactor: TextRedactor, error: E): E {
  const seen = new Set<object>();
  const visit = (e: Error): void => {
    if (seen.has(e)) return;
    seen.add(e);
    const record = e as unknown as Record<PropertyKey, unknown>;
    for (const key of new Set<PropertyKey>(["message", "stack", ...Reflect.ownKeys(e)])) {
      const v = record[key];
      if (typeof v === "string") trySet(record, key, redactor.redact(v));
      else if (v instanceof Error) visit(v);
      else if (key === "errors" && Array.isArray(v)) {
        for (const item of v) if (item instanceof Error) visit(item);
      } else if (key === "cause" && v !== undefined) trySet(record, key, redactDeep(redactor, v));
    }
  };
  visit(error);
  return error;
}

function trySet(target: Record<PropertyKey, unknown>, key: PropertyKey, value: unknown): void {
  if (target[key] === value) return;
  try {
    target[key] = value;
  } catch {
    // A frozen error or a getter-only property: nothing else can be done in place.
  }
}
