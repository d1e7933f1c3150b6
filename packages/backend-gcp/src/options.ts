/** Eager checks of the backend's options: shapes only, no connection, never echoing a credential. */
import { ConfigurationError } from "@keyway/core/backend";
import { type ClientConfig, type GcpCredentials, parseEndpoint } from "./client.js";
import { PREFIX_PATTERN } from "./names.js";

/** What the factory needs after the checks. */
export interface CheckedOptions extends ClientConfig {
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly listPageSize: number;
  /** Strings to scrub from any error cause. */
  readonly secrets: readonly string[];
}

interface RawOptions {
  project?: unknown;
  prefix?: unknown;
  credentials?: unknown;
  emulatorEndpoint?: unknown;
  timeoutMs?: unknown;
  listPageSize?: unknown;
}

// Project ids (`my-project-123`), numbers (`123456789`) and legacy domain-scoped ids (`example.com:p`).
const PROJECT = /^[A-Za-z0-9][A-Za-z0-9.:_-]{0,99}$/;
const MAX_PAGE_SIZE = 25_000;

export function checkOptions(options: RawOptions, backend: string): CheckedOptions {
  const bad = (message: string) => new ConfigurationError(`GCP backend: ${message}`, { backend });
  if (typeof options !== "object" || options === null) throw bad("options must be an object.");
  const { project, prefix = "keyway", timeoutMs = 10_000, listPageSize = 250 } = options;
  if (typeof project !== "string" || !PROJECT.test(project)) {
    throw bad("'project' must be a Google Cloud project id or number (e.g. \"my-project\").");
  }
  if (typeof prefix !== "string" || !PREFIX_PATTERN.test(prefix)) {
    throw bad("'prefix' must be at most 100 characters of A-Z a-z 0-9 _ -.");
  }
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs <= 0) {
    throw bad("'timeoutMs' must be a positive integer (milliseconds).");
  }
  if (
    typeof listPageSize !== "number" ||
    !Number.isInteger(listPageSize) ||
    listPageSize < 1 ||
    listPageSize > MAX_PAGE_SIZE
  ) {
    throw bad(`'listPageSize' must be an integer from 1 to ${MAX_PAGE_SIZE}.`);
  }
  const credentials = checkCredentials(options.credentials, bad);
  let emulator: ClientConfig["emulator"];
  if (options.emulatorEndpoint !== undefined) {
    emulator =
      typeof options.emulatorEndpoint === "string" ? parseEndpoint(options.emulatorEndpoint) : undefined;
    if (!emulator) throw bad("'emulatorEndpoint' must be host:port, e.g. \"127.0.0.1:8085\".");
    // The emulator channel is plaintext: a credential given with it would be a mistake to send.
    if (credentials.type !== "adc")
      throw bad("'emulatorEndpoint' takes no 'credentials' (the emulator needs none).");
  }
  const secrets = credentials.type === "service_account" ? [credentials.private_key] : [];
  return { project, prefix, timeoutMs, listPageSize, credentials, emulator, secrets };
}

function checkCredentials(value: unknown, bad: (message: string) => ConfigurationError): GcpCredentials {
  if (value === undefined) return { type: "adc" };
  const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
  switch (record.type) {
    case "adc":
      return { type: "adc" };
    case "key_file":
      if (typeof record.keyFilename === "string" && record.keyFilename.length > 0) {
        return { type: "key_file", keyFilename: record.keyFilename };
      }
      throw bad("'credentials.keyFilename' must be the path of a key file.");
    case "service_account":
      if (typeof record.client_email !== "string" || !record.client_email.includes("@")) {
        throw bad("'credentials.client_email' must be the service account's email.");
      }
      if (typeof record.private_key !== "string" || !record.private_key.includes("PRIVATE KEY")) {
        throw bad("'credentials.private_key' must be a PEM private key (its value is not shown).");
      }
      return record as unknown as GcpCredentials;
    default:
      throw bad(
        '\'credentials\' must be { type: "adc" }, a service-account key JSON ({ type: "service_account", ... }) or { type: "key_file", keyFilename }.',
      );
  }
}
