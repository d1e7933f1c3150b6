/**
 * The Secret Manager client: imported and created on first use (importing this package loads no
 * Google SDK), with gax retries off on every call (Keyway's resolver owns retries) and a
 * per-call timeout.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createRequire } from "node:module";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import type { CallOptions, grpc as Grpc } from "google-gax";

/** The part of `SecretManagerServiceClient` this backend calls; inject your own configured client. */
export type GcpSecretManagerClient = Pick<
  SecretManagerServiceClient,
  | "accessSecretVersion"
  | "getSecretVersion"
  | "getSecret"
  | "createSecret"
  | "updateSecret"
  | "addSecretVersion"
  | "listSecrets"
  | "deleteSecret"
  | "close"
>;

/** A service-account key, as in its JSON file (`"type": "service_account"`). */
export interface GcpServiceAccountKey {
  readonly type: "service_account";
  readonly client_email: string;
  readonly private_key: string;
  readonly project_id?: string | undefined;
  readonly private_key_id?: string | undefined;
  readonly [field: string]: unknown;
}

/** How the backend authenticates to Google. */
export type GcpCredentials =
  /** Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS`, gcloud, or the metadata server. */
  | { readonly type: "adc" }
  /** A service-account key given as its parsed JSON. */
  | GcpServiceAccountKey
  /** A key file on disk (service account or external account JSON). */
  | { readonly type: "key_file"; readonly keyFilename: string };

export interface ClientConfig {
  readonly project: string;
  readonly credentials: GcpCredentials;
  /** `host:port` of an emulator: plaintext gRPC, and no Google credentials at all. */
  readonly emulator?: { readonly host: string; readonly port: number } | undefined;
}

/**
 * gRPC reconnect backoff. grpc-js doubles it (x1.6) after each failed connection up to 120 s by
 * default, so after an outage of a few minutes the client kept failing fast for up to two more
 * minutes once Secret Manager was back. Capped at 2 s, it is usable again within about 2 s.
 */
const CHANNEL_OPTIONS = {
  "grpc.initial_reconnect_backoff_ms": 250,
  "grpc.max_reconnect_backoff_ms": 2_000,
} as const;

/** Imports the SDK and creates a client. Insecure channel credentials only ever for the emulator. */
export async function createSecretManagerClient(config: ClientConfig): Promise<GcpSecretManagerClient> {
  const [{ SecretManagerServiceClient }, { loggingUtils }] = await Promise.all([
    import("@google-cloud/secret-manager"),
    import("google-gax"),
  ]);
  return silenced(await newClient(SecretManagerServiceClient, config), loggingUtils);
}

/**
 * The generated client logs every request and response with `%j` (payloads included: values
 * read, and values being written) to stderr when GOOGLE_SDK_NODE_LOGGING names it. Its logger is
 * created per client, so this one gets the no-op logger, whatever the environment says.
 */
function silenced<T>(client: T, loggingUtils: typeof import("google-gax").loggingUtils): T {
  const target = client as unknown as { _log?: unknown };
  if ("_log" in target) target._log = loggingUtils.log("");
  return client;
}

async function newClient(
  SecretManagerServiceClient: typeof import("@google-cloud/secret-manager").SecretManagerServiceClient,
  config: ClientConfig,
): Promise<SecretManagerServiceClient> {
  const projectId = config.project;
  if (config.emulator) {
    const { grpc } = await import("google-gax");
    return new SecretManagerServiceClient({
      ...CHANNEL_OPTIONS,
      projectId,
      apiEndpoint: config.emulator.host,
      port: config.emulator.port,
      sslCreds: grpc.credentials.createInsecure(),
      // Without a universe domain gax asks the credentials for one, which probes ADC and the
      // GCE metadata server (slow, and pointless: the emulator takes no credentials).
      clientOptions: { universeDomain: "googleapis.com" },
    });
  }
  const credentials = config.credentials;
  switch (credentials.type) {
    case "adc":
      return new SecretManagerServiceClient({ ...CHANNEL_OPTIONS, projectId });
    case "key_file":
      return new SecretManagerServiceClient({
        ...CHANNEL_OPTIONS,
        projectId,
        keyFilename: credentials.keyFilename,
      });
    case "service_account":
      return new SecretManagerServiceClient({
        ...CHANNEL_OPTIONS,
        projectId,
        credentials: { client_email: credentials.client_email, private_key: credentials.private_key },
      });
  }
}

/**
 * gax options for one call: `retry: null` turns gax's retries off (do not also pass
 * `maxRetries`: gax then dereferences the null retry settings), `timeout` bounds the call. Inside
 * {@link withSignal}, the call also gets an interceptor that cancels the RPC when the caller's
 * signal aborts: without it an abandoned RPC stays open until `timeout`, and keeps the process
 * alive that long after `close()`.
 */
export function callOptions(timeoutMs: number, extra: CallOptions = {}): CallOptions {
  const options: CallOptions = { ...extra, retry: null, timeout: timeoutMs };
  const signal = callerSignal.getStore();
  if (!signal) return options;
  const otherArgs = extra.otherArgs ?? {};
  const grpcOptions = (otherArgs.options ?? {}) as { interceptors?: Grpc.Interceptor[] };
  const interceptors = [...(grpcOptions.interceptors ?? []), cancelOnAbort(signal)];
  return { ...options, otherArgs: { ...otherArgs, options: { ...grpcOptions, interceptors } } };
}

/** The signal of the call {@link withSignal} is starting, read by {@link callOptions}. */
const callerSignal = new AsyncLocalStorage<AbortSignal>();
let grpcModule: typeof Grpc | undefined;

/** A gRPC interceptor that cancels its call when `signal` aborts (and forgets it once the call ends). */
function cancelOnAbort(signal: AbortSignal): Grpc.Interceptor {
  // google-gax is loaded by then (the client depends on it); require returns the loaded module.
  grpcModule ??= (createRequire(import.meta.url)("google-gax") as { grpc: typeof Grpc }).grpc;
  const grpc = grpcModule;
  return (options, nextCall) => {
    const call: Grpc.InterceptingCall = new grpc.InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            signal.removeEventListener("abort", cancel);
            nextStatus(status);
          },
        });
      },
    });
    const cancel = () => call.cancelWithStatus(grpc.status.CANCELLED, "Cancelled: the caller aborted.");
    if (signal.aborted) queueMicrotask(cancel);
    else signal.addEventListener("abort", cancel, { once: true });
    return call;
  };
}

/** Thrown when the caller's signal aborts a call; the error mapping turns it into "unavailable". */
export class CallAbortedError extends Error {
  override readonly name = "CallAbortedError";
}

/**
 * Runs one SDK call, settling as soon as `signal` aborts. The client's public methods do not
 * expose gax's `cancel()`; the RPC itself is cancelled by the interceptor {@link callOptions}
 * adds when it is called inside `run`.
 */
export function withSignal<T>(run: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal?.aborted) return Promise.reject(new CallAbortedError("aborted before the call"));
  if (!signal) return run();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new CallAbortedError("aborted by the caller"));
    signal.addEventListener("abort", onAbort, { once: true });
    callerSignal
      .run(signal, run)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener("abort", onAbort));
  });
}

let table: Uint32Array | undefined;

/** CRC32C (Castagnoli) of `bytes`: the checksum Secret Manager stores with each version. */
export function crc32c(bytes: Uint8Array): number {
  table ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Parses `host:port` (or `[v6]:port`) of an emulator, or returns undefined. */
export function parseEndpoint(endpoint: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(endpoint);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: match[1].replace(/^\[|\]$/g, ""), port };
}
