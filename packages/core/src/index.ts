/**
 * @keyway/core for applications: the router and resolver, secret values, the typed errors, the
 * redactor, templates and watch. No cloud SDK, `zod` or `yaml` is loaded from here: the config
 * loader is the separate entry `@keyway/core/config`, and what a backend author needs (the
 * contract, `defineBackend`, error mapping) is `@keyway/core/backend`, and the diagnostics_channel
 * names and events are on `@keyway/core/otel`.
 *
 * The list is explicit, so a change of the public surface is a deliberate diff (and
 * test/exports.test.ts holds it).
 */

// Backends an application composes (a backend author's contract is in @keyway/core/backend).
// The resolver and the router
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
// Audit
// Errors
// Redaction
// The forms a value takes once encoded (base64, URL, JSON, …), as the redactor masks them.
// Templates
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
