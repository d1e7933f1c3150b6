// Every input of the benchmark comes from this seeded generator, so two runs (and two machines)
// measure the same text, the same keys and the same secrets; only the timings differ.

/** The seed of every case; change it to check that a result does not hinge on one input. */
export const SEED = 0x6b657977; // "keyw"

/**
 * mulberry32: 32-bit state, one multiply-xorshift per number. Plenty for test inputs and much
 * faster than a cryptographic source, so generating 32 MiB of logs stays cheap.
 * @returns a function giving numbers in [0, 1).
 */
export function prng(seed = SEED) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [min, max]. */
export function int(random, min, max) {
  return min + Math.floor(random() * (max - min + 1));
}

/** One element of `list`. */
export function pick(random, list) {
  return list[Math.floor(random() * list.length)];
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/** Characters of real tokens: letters, digits and the punctuation password generators use. */
const SECRET_CHARS = `${ALNUM}-_.~+/=!@#%^&*`;

/**
 * A random string of `length` characters drawn from `alphabet`. Built from character codes in
 * one go: appending one character at a time makes a rope of `length` nodes, which would weigh on
 * the memory case many times the string's own size.
 */
export function text(random, length, alphabet = ALNUM) {
  const codes = new Array(length);
  for (let i = 0; i < length; i++) codes[i] = alphabet.charCodeAt(Math.floor(random() * alphabet.length));
  return String.fromCharCode(...codes);
}

/** `count` distinct secrets of 12–64 characters (a 4-character prefix keeps them distinct). */
export function secrets(random, count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    const length = int(random, 12, 64);
    out.push(`${i.toString(36).padStart(4, "0")}${text(random, length - 4, SECRET_CHARS)}`);
  }
  return out;
}
