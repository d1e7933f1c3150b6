// Shared by the server suites: the moto server this project's globalSetup started (or an
// external one: KEYWAY_TEST_MOTO_ENDPOINT, e.g. the motoserver/moto or LocalStack image), a random
// per-run prefix, and SDK clients that count the operations they send.
import { randomBytes } from "node:crypto";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import { inject } from "vitest";
import type { AwsBackendOptions } from "../src/index.js";

export const moto = inject("keywayServers")?.moto ?? serverFromEnv("moto");
if (!moto)
  console.warn("[keyway] SKIPPING aws server suite: no moto (run scripts/emulators/install.sh moto)");

export const region = moto?.extra.region ?? "us-east-1";
export const endpoint = moto?.endpoint ?? "http://127.0.0.1:1";
export const staticCredentials = {
  type: "static" as const,
  accessKeyId: moto?.extra.accessKeyId ?? "test",
  secretAccessKey: moto?.extra.secretAccessKey ?? "test",
};
/** Every suite writes under its own prefix, so runs and suites never see each other's secrets. */
export const run = randomBytes(4).toString("hex");

export function options(extra: Partial<AwsBackendOptions> = {}): AwsBackendOptions {
  const base: AwsBackendOptions = { region, endpoint, credentials: staticCredentials, prefix: `kw-${run}` };
  return extra.client ? { prefix: base.prefix, ...extra } : { ...base, ...extra };
}

/** A plain SDK client on moto (to set up states Keyway never writes), counting what it sends. */
export function countingClient(): { client: SecretsManagerClient; calls: string[] } {
  const client = new SecretsManagerClient({
    region,
    endpoint,
    credentials: staticCredentials,
    maxAttempts: 1,
  });
  const calls: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: "keywayCountCalls" },
  );
  return { client, calls };
}

/** Runs `task` over `items`, `width` at a time (moto is single-threaded; keep it busy, not flooded). */
export async function inParallel<T>(
  items: readonly T[],
  width: number,
  task: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(task));
}
