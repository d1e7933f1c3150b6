/**
 * @keyway/core: the `SecretBackend` contract, a caching `SecretResolver`, typed errors that never
 * leak, references, masked values and the redactor. No cloud SDK, `zod` or `yaml` is loaded from
 * here: the config loader is the separate entry `@keyway/core/config`.
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
