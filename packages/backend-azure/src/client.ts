/**
 * Lazy SDK client creation. `@azure/keyvault-secrets` (and `@azure/identity`, when Keyway builds
 * the credential) are imported on first use, so importing the backend loads no Azure code.
 */
import { rootCertificates } from "node:tls";
import type { TokenCredential } from "@azure/identity";
import type { SecretClient, SecretClientOptions } from "@azure/keyvault-secrets";

/** The part of `SecretClient` Keyway calls; an injected client needs only these. */
export type AzureSecretClient = Pick<
  SecretClient,
  | "getSecret"
  | "setSecret"
  | "beginDeleteSecret"
  | "beginRecoverDeletedSecret"
  | "purgeDeletedSecret"
  | "getDeletedSecret"
  | "listPropertiesOfSecrets"
>;

/**
 * How the backend authenticates, when it builds the credential itself. Pass a `TokenCredential`
 * object instead (in code) for anything else.
 */
export type AzureCredentialOptions =
  | {
      /** `DefaultAzureCredential`: environment, workload identity, managed identity, Azure CLI... */
      type: "default";
      /** The user-assigned managed identity to use. @default the system-assigned one */
      managedIdentityClientId?: string | undefined;
      /** The Microsoft Entra tenant. @default from the environment */
      tenantId?: string | undefined;
    }
  | {
      /** A service principal with a client secret. */
      type: "clientSecret";
      tenantId: string;
      clientId: string;
      /** Never logged, never in an error. */
      clientSecret: string;
    }
  | {
      /** Managed identity (VMs, App Service, AKS pod identity...). */
      type: "managedIdentity";
      /** A user-assigned identity's client id. @default the system-assigned identity */
      clientId?: string | undefined;
    }
  | {
      /** Workload identity federation (AKS): reads `AZURE_FEDERATED_TOKEN_FILE` and friends. */
      type: "workloadIdentity";
      /** @default AZURE_TENANT_ID */
      tenantId?: string | undefined;
      /** @default AZURE_CLIENT_ID */
      clientId?: string | undefined;
      /** @default AZURE_FEDERATED_TOKEN_FILE */
      tokenFilePath?: string | undefined;
    };

/** What creating a client needs (the backend's validated options). */
export interface ClientSettings {
  readonly vaultUrl: string;
  readonly credential: AzureCredentialOptions | TokenCredential;
  readonly ca: readonly string[];
  readonly disableChallengeResourceVerification: boolean;
  readonly serviceVersion: SecretClientOptions["serviceVersion"];
}

/** True for a credential object (`getToken`), false for one of the option modes. */
export function isTokenCredential(credential: unknown): credential is TokenCredential {
  return typeof (credential as TokenCredential | undefined)?.getToken === "function";
}

/** The strings of a credential that must never appear anywhere: scrubbed from causes. */
export function credentialSecrets(credential: AzureCredentialOptions | TokenCredential): string[] {
  return !isTokenCredential(credential) && credential.type === "clientSecret"
    ? [credential.clientSecret]
    : [];
}

async function buildCredential(
  credential: AzureCredentialOptions | TokenCredential,
): Promise<TokenCredential> {
  if (isTokenCredential(credential)) return credential;
  const identity = await import("@azure/identity");
  switch (credential.type) {
    case "default":
      return new identity.DefaultAzureCredential({
        managedIdentityClientId: credential.managedIdentityClientId,
        tenantId: credential.tenantId,
      });
    case "clientSecret":
      return new identity.ClientSecretCredential(
        credential.tenantId,
        credential.clientId,
        credential.clientSecret,
      );
    case "managedIdentity":
      return credential.clientId === undefined
        ? new identity.ManagedIdentityCredential()
        : new identity.ManagedIdentityCredential({ clientId: credential.clientId });
    case "workloadIdentity":
      return new identity.WorkloadIdentityCredential({
        tenantId: credential.tenantId,
        clientId: credential.clientId,
        tokenFilePath: credential.tokenFilePath,
      });
  }
}

/**
 * Creates the SDK client. Its retries are off (Keyway's resolver retries unavailable errors, so
 * attempts never multiply). Extra CAs are trusted for this client only, in addition to Node's
 * bundled roots; certificate checks stay on.
 */
export async function createSecretClient(settings: ClientSettings): Promise<AzureSecretClient> {
  const [{ SecretClient }, credential] = await Promise.all([
    import("@azure/keyvault-secrets"),
    buildCredential(settings.credential),
  ]);
  return new SecretClient(settings.vaultUrl, credential, {
    retryOptions: { maxRetries: 0 },
    disableChallengeResourceVerification: settings.disableChallengeResourceVerification,
    userAgentOptions: { userAgentPrefix: "keyway" },
    ...(settings.serviceVersion === undefined ? {} : { serviceVersion: settings.serviceVersion }),
    ...(settings.ca.length > 0 ? { tlsOptions: { ca: [...rootCertificates, ...settings.ca] } } : {}),
  });
}
