/**
 * @keyway/core for applications: the router and resolver (`createRouter`, `createResolver`),
 * secret values and references, the typed errors, the redactor and its logger and stream
 * integrations, templates (`renderTemplate`, `templateReferences`, `renderProperties`), watch,
 * the audit sink, and `createMemoryBackend` for tests and local stores.
 *
 * No cloud SDK, `zod` or `yaml` is loaded from here: the config loader is the separate entry
 * `@keyway/core/config`; what a backend author needs (the contract, `defineBackend`, error
 * mapping) is `@keyway/core/backend`; the diagnostics_channel names and events are on
 * `@keyway/core/otel`. Core's internals (deadlines, retries, the breaker, …) are exported by none.
 *
 * The list is explicit, so a change of the public surface is a deliberate diff: the committed
 * lists in test/exports.json say what each entry exports.
 */

export type {
  Redactor,
  ResolveOptions,
  SecretBackend,
  SecretRef,
  SecretResolver,
  VersionChange,
  Watch,
  WatchListener,
  WatchOptions,
} from "./internal.js";
export {
  AccessDeniedError,
  AllBackendsFailedError,
  type AuditEvent,
  type AuditSink,
  BackendUnavailableError,
  type CacheOptions,
  ConfigurationError,
  ConflictError,
  createJsonLinesAuditSink,
  createMemoryBackend,
  createRedactor,
  createResolver,
  createRouter,
  derivedForms,
  type Explanation,
  InvalidReferenceError,
  InvalidSecretValueError,
  isSecretsError,
  type ListedKey,
  type MemoryBackendOptions,
  MultipleSecretsError,
  pinoRedactionHooks,
  ReadOnlyError,
  type RedactorOptions,
  type RenderOptions,
  type ResolverOptions,
  type RouteRule,
  type Router,
  type RouterOptions,
  redactingDestination,
  redactProcessOutput,
  renderProperties,
  renderTemplate,
  type SearchedLevel,
  SecretDisabledError,
  type SecretMetadata,
  SecretNotFoundError,
  SecretsError,
  type SecretsErrorCode,
  SecretValue,
  SubkeyNotFoundError,
  TemplateError,
  type TemplateReference,
  templateReferences,
  winstonRedactFormat,
} from "./internal.js";
