/**
 * @keyway/backend-store: Keyway's own encrypted secret store. One schema, two engines: PostgreSQL
 * (`url`) for a fleet and an embedded SQLite folder (`path`) for one machine. Values are sealed
 * with envelope encryption (AES-256-GCM data keys wrapped by the key-encryption key); versions,
 * description and tags, soft delete with restore and purge, compare-and-set and pushed change
 * events (`subscribe`).
 */

export { initializeStore, type RotateProgress, rotateStoreKey } from "./admin.js";
export {
  createStoreBackend,
  type StoreBackend,
  type StoreBackendOptions,
  type StoreListOptions,
} from "./backend.js";
export { generateKeyText, KEY_VARIABLE, keyId, loadStoreKey, parseKeyText, type StoreKey } from "./key.js";
