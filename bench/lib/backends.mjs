// In-process backends for the cases: every call counted, answers from a fixed map of values.
import { SecretNotFoundError, SecretValue } from "@keyway/core";

/** What the in-process bench backends can do: read only. */
export const READ_ONLY = Object.freeze({
  write: false,
  list: false,
  batch: false,
  versions: false,
  caseSensitiveKeys: true,
  maxValueBytes: 65536,
});

/**
 * A backend that answers from `values` ("namespace/KEY" → value) after `latency`: a number of
 * milliseconds (setTimeout, no concurrency limit), or 0 for an already-settled promise. With
 * `copy`, each answer is a new string, as one decoded from a response would be.
 */
export function countingBackend(values, { latency = 0, name = "bench", copy = false } = {}) {
  const backend = {
    name,
    calls: 0,
    capabilities: READ_ONLY,
    async get(ref) {
      backend.calls++;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      const value = values.get(`${ref.namespace}/${ref.key}`);
      if (value === undefined) throw new SecretNotFoundError(ref.key, { backend: name });
      return SecretValue.fromText(copy ? fresh(value) : value);
    },
  };
  return backend;
}

/** A new string with the same characters (not a reference to the same one). */
export function fresh(text) {
  return Buffer.from(text, "utf8").toString("utf8");
}
