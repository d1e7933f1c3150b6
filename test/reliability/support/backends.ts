// The three real backends, created the way an application would create them, pointed either at
// the server directly (to seed and to check state) or at a fault path in front of it.
import { randomBytes } from "node:crypto";
import { createAwsBackend } from "@keyway/backend-aws";
import { createGcpBackend } from "@keyway/backend-gcp";
import { createVaultBackend } from "@keyway/backend-vault";
import type { SecretBackend, SecretRef } from "@keyway/core";
import type { BackendCapabilities } from "@keyway/core/backend";
import { serverFromEnv } from "@keyway/test-servers";
import { FAULT_SERVERS } from "../../backends.js";

/** The three servers behind the backends (moto: AWS, openbao: Vault, gcp: the GCP emulator). */
export type BackendServer = "moto" | "openbao" | "gcp";

/**
 * A server the globalSetup started, read back from the environment (so this module also works
 * in a plain child process, without Vitest).
 */
export function serverInfo(name: BackendServer | "toxiproxy") {
  const found = serverFromEnv(name);
  if (!found)
    throw new Error(`[keyway] the reliability suite needs ${name}: run scripts/emulators/install.sh`);
  return found;
}

/** Capabilities of the scripted get-only backends the tests build by hand. */
export const GET_ONLY: BackendCapabilities = {
  write: false,
  list: false,
  batch: false,
  versions: false,
  caseSensitiveKeys: true,
  maxValueBytes: 1024,
};

/** A name unique to this file and run, for prefixes, keys and projects. */
export const runId = () => randomBytes(4).toString("hex");

export interface BackendSettings {
  /** `127.0.0.1:PORT` to talk to (a Toxiproxy listener or the server itself). */
  readonly address: string;
  /** Per-request timeout inside the backend. */
  readonly requestTimeoutMs?: number;
  /** Separates this test's secrets from every other's. */
  readonly scope: string;
  readonly name?: string;
  /** OpenBao: the token to use. @default the root token */
  readonly token?: string;
}

/** Creates the backend for `kind`; `scope` is the AWS/Vault prefix and the GCP project. */
export function makeBackend(kind: BackendServer, settings: BackendSettings): SecretBackend {
  const { address, scope } = settings;
  const timeout = settings.requestTimeoutMs ?? 10_000;
  switch (kind) {
    case "moto":
      return createAwsBackend({
        name: settings.name ?? "aws",
        region: serverInfo("moto").extra.region ?? "us-east-1",
        endpoint: `http://${address}`,
        credentials: { type: "static", accessKeyId: "test", secretAccessKey: "test" },
        prefix: `rel-${scope}`,
        requestTimeoutMs: timeout,
        forceDelete: true,
      });
    case "openbao":
      return createVaultBackend({
        name: settings.name ?? "vault",
        endpoint: `http://${address}`,
        auth: { method: "token", token: settings.token ?? serverInfo("openbao").extra.rootToken ?? "root" },
        prefix: `rel-${scope}`,
        requestTimeoutMs: timeout,
        env: {},
      });
    case "gcp":
      return createGcpBackend({
        name: settings.name ?? "gcp",
        project: `rel-${scope}`,
        emulatorEndpoint: address,
        requestTimeoutMs: timeout,
        // One RPC per read, so requests on the wire equal Keyway's attempts.
        readSecretMetadata: false,
      });
  }
}

/** The backend on the server itself, no faults: to seed values and to look at what is stored. */
export function directBackend(
  kind: BackendServer,
  scope: string,
  port = serverInfo(kind).port,
): SecretBackend {
  return makeBackend(kind, { address: `127.0.0.1:${port}`, scope, name: `${kind}-direct` });
}

const FAULTY: readonly string[] = ["moto", "openbao", "gcp"] satisfies readonly BackendServer[];

/**
 * The servers the fault suites loop over: each backends.json entry's `faults` server. A backend
 * added there needs its case in makeBackend above; until then this fails loudly.
 */
export const BACKENDS: readonly BackendServer[] = FAULT_SERVERS.map((server) => {
  if (!FAULTY.includes(server))
    throw new Error(`[keyway] backends.json names faults: "${server}", which makeBackend cannot build yet`);
  return server as BackendServer;
});

/** Seeds `values` (ref → value) with a direct backend, then closes it. */
export async function seed(
  kind: BackendServer,
  scope: string,
  values: ReadonlyArray<readonly [SecretRef, string]>,
  port?: number,
): Promise<void> {
  const backend = directBackend(kind, scope, port);
  try {
    for (const [ref, value] of values) await backend.put?.(ref, value);
  } finally {
    await backend.close?.();
  }
}
