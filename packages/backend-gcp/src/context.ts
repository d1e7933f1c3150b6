/** What the GCP backend's reads and writes share: the settings, one call with its options, error mapping. */
import type { BackendKit, SecretRef, SecretsError } from "@keyway/core/backend";
import type { CallOptions } from "google-gax";
import { callOptions, type GcpSecretManagerClient, withSignal } from "./client.js";
import { type GcpOperation, mapGcpError } from "./errors.js";
import { secretIdFor } from "./names.js";
import type { GcpSettings } from "./options.js";

export interface GcpContext {
  readonly name: string;
  readonly settings: GcpSettings;
  /** `projects/<project>` */
  readonly parent: string;
  /** Runs one call with retries off, the timeout and the caller's signal; errors are the SDK's. */
  send<T>(
    signal: AbortSignal | undefined,
    run: (client: GcpSecretManagerClient, options: CallOptions) => Promise<T>,
  ): Promise<T>;
  /** Maps an SDK error, knowing which step failed. */
  fail(error: unknown, operation: GcpOperation, key: string | undefined, signal?: AbortSignal): SecretsError;
  /** `projects/<project>/secrets/<id>` of a ref. */
  secretName(ref: SecretRef): string;
}

export function gcpContext({
  name,
  settings,
  client,
}: BackendKit<GcpSettings, GcpSecretManagerClient>): GcpContext {
  const parent = `projects/${settings.project}`;
  return {
    name,
    settings,
    parent,
    async send(signal, run) {
      const c = await client();
      return withSignal(() => run(c, callOptions(settings.requestTimeoutMs)), signal);
    },
    fail: (error, operation, key, signal) =>
      mapGcpError(error, { backend: name, key, operation, secrets: settings.secrets, signal }),
    secretName: (ref) => `${parent}/secrets/${secretIdFor(settings.prefix, ref, name)}`,
  };
}
