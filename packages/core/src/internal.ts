/**
 * Every module's exports in one place, for core's own entries (index.ts, backend-kit/index.ts,
 * config/, document.ts, otel.ts) to import from. An entry of the bundle but NOT of package.json's
 * `exports`, so nobody outside core can import it; each public entry picks its names from here,
 * and importing from this one file keeps one copy of every class across the entries
 * (scripts/bundle.mjs keeps an import of another entry an import of that entry's file).
 */

export * from "./audit.js";
export * from "./backend.js";
export * from "./backend-definition.js";
export * from "./cache/call/breaker.js";
export * from "./cache/call/deadline.js";
export * from "./cache/call/retry.js";
export * from "./cache/index.js";
export * from "./errors.js";
export * from "./memory-backend.js";
export * from "./properties.js";
export * from "./redact/index.js";
export * from "./ref.js";
export * from "./render.js";
export * from "./resolver.js";
export * from "./router/index.js";
export * from "./subkey.js";
export * from "./telemetry.js";
export * from "./template.js";
export * from "./value.js";
export type { VersionChange, Watch, WatchIterator, WatchListener, WatchOptions } from "./watch/index.js";
