// CLI issue #20 point 3, "errors that say where": an unreachable backend must say which backend,
// and the OS error with the address it tried (`ECONNREFUSED 127.0.0.1:8200`), so the reader knows
// what to fix. Each case drives the vendor's real SDK at a loopback port nothing listens on.
import { createAwsBackend } from "@keyway/backend-aws";
import { createAzureBackend } from "@keyway/backend-azure";
import { createGcpBackend } from "@keyway/backend-gcp";
import { createVaultBackend } from "@keyway/backend-vault";
import { BackendUnavailableError, type SecretBackend } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { closedPort } from "../setup/closed-port.js";

const backends: Record<string, (port: number) => SecretBackend> = {
  vault: (port) =>
    createVaultBackend({
      name: "team-vault",
      endpoint: `http://127.0.0.1:${port}`,
      auth: { method: "token", token: "s.not-a-real-token-000000000000" },
    }),
  aws: (port) =>
    createAwsBackend({
      name: "team-aws",
      region: "us-east-1",
      endpoint: `http://127.0.0.1:${port}`,
      credentials: { type: "static", accessKeyId: "AKIDEXAMPLE", secretAccessKey: "not-a-real-secret" },
    }),
  gcp: (port) =>
    createGcpBackend({ name: "team-gcp", project: "keyway-test", emulatorEndpoint: `127.0.0.1:${port}` }),
  azure: (port) =>
    createAzureBackend({
      name: "team-azure",
      vaultUrl: `https://127.0.0.1:${port}`,
      credential: {
        getToken: async () => ({ token: "not-a-real-token", expiresOnTimestamp: Date.now() + 60_000 }),
      },
    }),
};

describe("an unreachable backend names itself and the OS error with its address", () => {
  it.each(Object.keys(backends))("%s", async (type) => {
    const port = await closedPort();
    const backend = (backends[type] as (port: number) => SecretBackend)(port);
    const error = await backend.get({ key: "DB_PASSWORD", namespace: "company.team" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await backend.close?.();
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`'team-${type}'`);
    expect(message).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    expect(message).not.toMatch(/not-a-real/);
  });
});
