/**
 * @keyway/server: `keyway serve`, one HTTP server with three faces over one Keyway router — a
 * Kestra-shaped namespace-secrets API, the Secrets tab console, and a resolver agent speaking AWS
 * Secrets Manager Agent's and Dapr's secrets APIs for executors in any language.
 */
export { type AuditLog, createJsonLinesAuditLog, type ServeAuditEvent } from "./http/audit.js";
export { generateToken } from "./http/auth.js";
export { HttpError, statusOf } from "./http/errors.js";
export type { ServedBackend } from "./http/exchange.js";
export type { RateLimitOptions } from "./http/rate-limit.js";
export { createKeywayServer, type KeywayServer, type KeywayServerOptions } from "./server.js";
