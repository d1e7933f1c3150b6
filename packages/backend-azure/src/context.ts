/** What the Azure backend's reads and writes share: the settings, one SDK call with its options. */
import type { BackendKit } from "@keyway/core/backend";
import { type AzureSecretClient, credentialSecrets } from "./client.js";
import { mapAzureError, type Operation } from "./errors.js";
import type { AzureSettings } from "./options.js";

export interface AzureContext {
  readonly name: string;
  readonly settings: AzureSettings;
  /** Runs one SDK call on the (lazily created) client and maps whatever it throws. */
  call<T>(
    operation: Operation,
    key: string | undefined,
    run: (client: AzureSecretClient) => Promise<T>,
    extraSecrets?: readonly string[],
  ): Promise<T>;
  /** The SDK's per-call options: the caller's signal and the request timeout. */
  sdkOptions(signal: AbortSignal | undefined): {
    abortSignal: AbortSignal | undefined;
    requestOptions: { timeout: number };
  };
  /** How to wait for a long-running operation (delete, recover, purge). */
  waitFor(signal: AbortSignal | undefined): {
    backend: string;
    pollIntervalMs: number;
    signal: AbortSignal | undefined;
  };
}

export function azureContext({
  name,
  settings,
  client,
}: BackendKit<AzureSettings, AzureSecretClient>): AzureContext {
  const secrets = credentialSecrets(settings.credential);
  return {
    name,
    settings,
    async call(operation, key, run, extraSecrets = []) {
      try {
        return await run(await client());
      } catch (error) {
        throw mapAzureError(error, { backend: name, operation, key, secrets: [...secrets, ...extraSecrets] });
      }
    },
    sdkOptions: (signal) => ({ abortSignal: signal, requestOptions: { timeout: settings.requestTimeoutMs } }),
    waitFor: (signal) => ({ backend: name, pollIntervalMs: settings.pollIntervalMs, signal }),
  };
}
