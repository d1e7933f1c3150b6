/**
 * @keyway/core/backend, for backend authors: the `SecretBackend` contract, `defineBackend()` (the
 * kit that owns what every backend would otherwise write again: the lazy client, reference and
 * value checks, sorted listings, error wrapping, prepare and close), the `keyway.yaml` definition
 * types, reference checks and the helpers that turn a vendor's error into a Keyway error without
 * leaking what it carried. Applications import `@keyway/core`.
 */

// The contract.
export type {
  BackendCapabilities,
  BackendContext,
  BackendDefinition,
  ChangeListener,
  CredentialVariables,
  GetManyResult,
  GetOptions,
  ListOptions,
  OptionsIssue,
  OptionsSchema,
  PrepareOptions,
  ProbeOptions,
  PutMetadata,
  SecretBackend,
  SecretChange,
  SecretListing,
  Subscription,
  WriteOptions,
} from "../internal.js";
// Errors: the family, and the helpers that map and sanitize a vendor's error.
// References and values.
export {
  AccessDeniedError,
  assertKey,
  assertNamespace,
  assertTenant,
  BackendUnavailableError,
  ConfigurationError,
  ConflictError,
  formatRef,
  InvalidReferenceError,
  InvalidSecretValueError,
  isNetworkErrorCode,
  isSecretsError,
  isValidKey,
  isValidNamespace,
  isValidTenant,
  MAX_NAMESPACE_LENGTH,
  networkDetail,
  ReadOnlyError,
  SanitizedCause,
  SecretDisabledError,
  type SecretMetadata,
  SecretNotFoundError,
  type SecretRef,
  SecretsError,
  type SecretsErrorCode,
  type SecretsErrorOptions,
  SecretValue,
  safeIdentifier,
  sanitizeCause,
  scrubMessage,
  // Settles with a promise, or rejects with BackendUnavailableError when the caller's signal aborts.
  untilAborted,
  validateRef,
} from "../internal.js";
// The `keyway.yaml` side: how the config loader finds, validates and creates a backend.
// The kit.
export {
  type BackendKit,
  type BackendOperation,
  type BackendOperations,
  type BackendSpec,
  type ClientSpec,
  defineBackend,
  type ErrorContext,
} from "./define.js";
export { parseOptions, renamedOption } from "./options.js";
