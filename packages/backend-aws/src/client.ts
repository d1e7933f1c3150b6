/**
 * The AWS SDK, loaded on first use, and the client built from the options. The SDK's retries are
 * off (`maxAttempts: 1`): Keyway's resolver retries unavailable errors itself, so attempts never
 * multiply.
 */
import type * as SM from "@aws-sdk/client-secrets-manager";
import type { SecretsManagerClient, SecretsManagerClientConfig } from "@aws-sdk/client-secrets-manager";
import type { AwsBackendOptions, AwsCredentialsOption } from "./options.js";

export type Sdk = typeof SM;

let sdk: Promise<Sdk> | undefined;

/** The SDK module; imported once, on the first call that needs it. */
export function loadSdk(): Promise<Sdk> {
  sdk ??= import("@aws-sdk/client-secrets-manager");
  return sdk;
}

/** Strings that must never appear in an error: every credential in the options. */
export function credentialStrings(credentials: AwsCredentialsOption | undefined): string[] {
  if (!credentials) return [];
  if (credentials.type === "static") {
    return [credentials.secretAccessKey, credentials.accessKeyId, credentials.sessionToken ?? ""].filter(
      Boolean,
    );
  }
  if (credentials.type === "assumeRole") {
    return [...credentialStrings(credentials.source), credentials.externalId ?? ""].filter(Boolean);
  }
  return [];
}

function handlerOptions(timeoutMs: number) {
  // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes.
  return { requestTimeout: timeoutMs, connectionTimeout: timeoutMs, throwOnRequestTimeout: true };
}

async function credentialProvider(
  credentials: AwsCredentialsOption | undefined,
  region: string | undefined,
  timeoutMs: number,
): Promise<SecretsManagerClientConfig["credentials"]> {
  if (!credentials || credentials.type === "default") {
    if (!credentials?.profile) return undefined; // the client's own default chain
    const { fromNodeProviderChain } = await import("@aws-sdk/credential-providers");
    return fromNodeProviderChain({ profile: credentials.profile });
  }
  if (credentials.type === "static") {
    const { accessKeyId, secretAccessKey, sessionToken } = credentials;
    return sessionToken === undefined
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken };
  }
  const { fromTemporaryCredentials } = await import("@aws-sdk/credential-providers");
  const stsRegion = credentials.stsRegion ?? region;
  return fromTemporaryCredentials({
    params: {
      RoleArn: credentials.roleArn,
      RoleSessionName: credentials.roleSessionName ?? "keyway",
      ...(credentials.externalId === undefined ? {} : { ExternalId: credentials.externalId }),
      ...(credentials.durationSeconds === undefined ? {} : { DurationSeconds: credentials.durationSeconds }),
    },
    ...(credentials.source
      ? { masterCredentials: await credentialProvider(credentials.source, region, timeoutMs) }
      : {}),
    clientConfig: {
      ...(stsRegion === undefined ? {} : { region: stsRegion }),
      ...(credentials.stsEndpoint === undefined ? {} : { endpoint: credentials.stsEndpoint }),
      maxAttempts: 1,
      requestHandler: handlerOptions(timeoutMs),
    },
  });
}

/** Builds the client the options describe (called once, on first use). */
export async function createClient(
  options: AwsBackendOptions,
  timeoutMs: number,
): Promise<SecretsManagerClient> {
  const { SecretsManagerClient } = await loadSdk();
  const credentials = await credentialProvider(options.credentials, options.region, timeoutMs);
  return new SecretsManagerClient({
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    maxAttempts: 1,
    requestHandler: handlerOptions(timeoutMs),
  });
}

/** The operations the backend uses, with their input and output types. */
interface Operations {
  GetSecretValue: [SM.GetSecretValueCommandInput, SM.GetSecretValueCommandOutput];
  BatchGetSecretValue: [SM.BatchGetSecretValueCommandInput, SM.BatchGetSecretValueCommandOutput];
  ListSecrets: [SM.ListSecretsCommandInput, SM.ListSecretsCommandOutput];
  DescribeSecret: [SM.DescribeSecretCommandInput, SM.DescribeSecretCommandOutput];
  CreateSecret: [SM.CreateSecretCommandInput, SM.CreateSecretCommandOutput];
  PutSecretValue: [SM.PutSecretValueCommandInput, SM.PutSecretValueCommandOutput];
  UpdateSecret: [SM.UpdateSecretCommandInput, SM.UpdateSecretCommandOutput];
  TagResource: [SM.TagResourceCommandInput, SM.TagResourceCommandOutput];
  UntagResource: [SM.UntagResourceCommandInput, SM.UntagResourceCommandOutput];
  RestoreSecret: [SM.RestoreSecretCommandInput, SM.RestoreSecretCommandOutput];
  DeleteSecret: [SM.DeleteSecretCommandInput, SM.DeleteSecretCommandOutput];
}

/** Sends one operation; throws the SDK's error as is (callers map it, knowing the key). */
export type Call = <K extends keyof Operations>(
  operation: K,
  input: Operations[K][0],
  signal?: AbortSignal | undefined,
) => Promise<Operations[K][1]>;

/** A {@link Call} over the client `getClient` gives (created on first use). */
export function makeCall(getClient: () => Promise<SecretsManagerClient>): Call {
  return async (operation, input, signal) => {
    const [module, client] = await Promise.all([loadSdk(), getClient()]);
    const Command = module[`${operation}Command`] as unknown as new (
      input: unknown,
    ) => Parameters<SecretsManagerClient["send"]>[0];
    return (await client.send(new Command(input), { abortSignal: signal })) as never;
  };
}
