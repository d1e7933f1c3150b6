// The Azure backend against a real Key Vault API: Lowkey Vault, started by this project's
// globalSetup (test/global-setup.ts), or an external one given by KEYWAY_TEST_LOWKEY_ENDPOINT
// (+ KEYWAY_TEST_LOWKEY_CA_FILE), e.g. the nagyesta/lowkey-vault Docker image.
import { randomBytes } from "node:crypto";
import type { TokenCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  type SecretBackend,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { defineBackendContract, seedByPut } from "../../../test/contract/index.js";
import { serverFromEnv } from "../../../test/servers/index.js";
import {
  type AzureBackendOptions,
  BINARY_CONTENT_TYPE,
  createAzureBackend,
  encodeName,
  MAX_NAME_LENGTH,
} from "../src/index.js";

const lowkey = inject("keywayServers")?.lowkey ?? serverFromEnv("lowkey");
if (!lowkey)
  console.warn(
    "[keyway] SKIPPING azure server suite: no Lowkey Vault (run scripts/emulators/install.sh lowkey)",
  );

const run = randomBytes(3).toString("hex");
/** Lowkey accepts any non-empty bearer token. */
const credential: TokenCredential = {
  getToken: async () => ({ token: "lowkey-accepts-any-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};

function options(extra: Partial<AzureBackendOptions> = {}): AzureBackendOptions {
  return {
    vaultUrl: lowkey?.endpoint,
    credential,
    ca: lowkey?.extra.caPem,
    // Lowkey's token challenge names a resource other than 127.0.0.1: an emulator-only switch.
    disableChallengeResourceVerification: true,
    prefix: `kw${run}`,
    pollIntervalMs: 50,
    // Lowkey routes on api-version; 7.6 is the newest every recent Lowkey serves. Override with
    // KEYWAY_TEST_LOWKEY_SERVICE_VERSION (e.g. 2025-07-01, the SDK's default) when it serves more.
    serviceVersion: (lowkey?.extra.serviceVersion ?? "7.6") as AzureBackendOptions["serviceVersion"],
    ...extra,
  };
}

/** A raw SDK client on the same vault, to set states Keyway never writes (disabled, expired). */
function rawClient(vaultUrl = lowkey?.endpoint ?? ""): SecretClient {
  return new SecretClient(vaultUrl, credential, {
    tlsOptions: { ca: lowkey?.extra.caPem },
    disableChallengeResourceVerification: true,
    retryOptions: { maxRetries: 0 },
    serviceVersion: (lowkey?.extra.serviceVersion ?? "7.6") as AzureBackendOptions["serviceVersion"],
  });
}

describe.skipIf(!lowkey)("azure backend on Lowkey Vault", () => {
  defineBackendContract("azure (Lowkey Vault)", {
    create: (seed) => seedByPut(createAzureBackend(options()), seed),
    timeoutMs: 30_000,
  });

  describe("Azure specifics", { timeout: 30_000 }, () => {
    let backend: SecretBackend;
    let raw: SecretClient;
    const ns = `azure.r${run}`;
    let n = 0;
    const ref = (key = `K${n++}`): SecretRef => ({ namespace: ns, key });
    const nameOf = (r: SecretRef, prefix = `kw${run}`) => encodeName(prefix, r);

    beforeAll(() => {
      backend = createAzureBackend(options());
      raw = rawClient();
    });
    afterAll(async () => {
      await backend.close?.();
    });

    it("runs on a vault that allows purging (issue #14: the harness creates it; Lowkey's defaults are purge-protected)", async () => {
      const target = ref();
      await backend.put?.(target, "level");
      const { properties } = await raw.getSecret(nameOf(target));
      // An external Lowkey: start it with --LOWKEY_VAULT_NAMES=- and create the vault as
      // test/servers/README.md shows (POST /management/vault, "Recoverable+Purgeable").
      expect(properties.recoveryLevel, "the test vault must be Recoverable+Purgeable").toBe(
        "Recoverable+Purgeable",
      );
    });

    it("probeVersion is the version get reports, changes on every write, and maps errors as get (issue #15)", async () => {
      const target = ref();
      await expect(backend.probeVersion?.(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      await backend.put?.(target, "one");
      const first = await backend.probeVersion?.(target);
      expect(first).toBe((await backend.get(target)).metadata.version);
      expect(await backend.probeVersion?.(target)).toBe(first);
      await backend.put?.(target, "two");
      const second = await backend.probeVersion?.(target);
      expect(second).not.toBe(first);
      expect(second).toBe((await backend.get(target)).metadata.version);
      await raw.updateSecretProperties(nameOf(target), second ?? "", { enabled: false });
      await expect(backend.probeVersion?.(target)).rejects.toBeInstanceOf(SecretDisabledError);
    });

    it("trusts Lowkey's CA through the client option only, never process-wide", async () => {
      expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
      const target = ref();
      await backend.put?.(target, "tls-ok");
      expect((await backend.get(target)).reveal()).toBe("tls-ok");
      // The same vault without `ca` is refused by certificate verification, as a configuration problem.
      const untrusted = createAzureBackend(options({ ca: undefined }));
      await expect(untrusted.get(target)).rejects.toBeInstanceOf(ConfigurationError);
      expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
    });

    it("delete then put recovers the soft-deleted name and writes a new version", async () => {
      const target = ref();
      await backend.put?.(target, "before");
      const firstVersion = (await backend.get(target)).metadata.version;
      await backend.delete?.(target);
      await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      // The name is soft-deleted, not free: Key Vault refuses a plain set (409).
      expect((await raw.getDeletedSecret(nameOf(target))).name).toBe(nameOf(target));
      await backend.put?.(target, "after");
      expect((await backend.get(target)).reveal()).toBe("after");
      // Recovered, so the old version came back with it.
      expect((await backend.get(target, { version: firstVersion })).reveal()).toBe("before");
    });

    it("purgeOnConflict purges the soft-deleted name instead: old versions are gone", async () => {
      const purging = createAzureBackend(options({ purgeOnConflict: true }));
      const target = ref();
      await purging.put?.(target, "before");
      const firstVersion = (await purging.get(target)).metadata.version;
      await purging.delete?.(target);
      await purging.put?.(target, "after");
      expect((await purging.get(target)).reveal()).toBe("after");
      await expect(purging.get(target, { version: firstVersion })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
    });

    it("purgeOnDelete leaves nothing recoverable", async () => {
      const purging = createAzureBackend(options({ purgeOnDelete: true }));
      const target = ref();
      await purging.put?.(target, "gone");
      await purging.delete?.(target);
      await expect(raw.getDeletedSecret(nameOf(target))).rejects.toMatchObject({ statusCode: 404 });
      await purging.put?.(target, "fresh");
      expect((await purging.get(target)).reveal()).toBe("fresh");
    });

    it("a disabled secret is SecretDisabledError, not access denied and never its value", async () => {
      const target = ref();
      await backend.put?.(target, "disabled-value");
      const version = (await backend.get(target)).metadata.version ?? "";
      await raw.updateSecretProperties(nameOf(target), version, { enabled: false });
      const error = await backend.get(target).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretDisabledError);
      expect(String((error as Error).message)).not.toContain("disabled-value");
    });

    it("an expired secret and a not-yet-valid one are SecretDisabledError", async () => {
      const expired = ref();
      const early = ref();
      await raw.setSecret(nameOf(expired), "expired-value", {
        expiresOn: new Date(Date.now() - 3_600_000),
      } as never);
      await raw.setSecret(nameOf(early), "early-value", {
        notBefore: new Date(Date.now() + 3_600_000),
      } as never);
      await expect(backend.get(expired)).rejects.toBeInstanceOf(SecretDisabledError);
      await expect(backend.get(early)).rejects.toBeInstanceOf(SecretDisabledError);
    });

    it("stores a name of exactly 127 characters and refuses 128 before any call", async () => {
      const fixed = nameOf({ namespace: ns, key: "x" }).length - 1;
      const exact = ref("k".repeat(MAX_NAME_LENGTH - fixed));
      expect(nameOf(exact)).toHaveLength(MAX_NAME_LENGTH);
      await backend.put?.(exact, "at-the-limit");
      expect((await backend.get(exact)).reveal()).toBe("at-the-limit");
      const over = ref("k".repeat(MAX_NAME_LENGTH - fixed + 1));
      await expect(backend.put?.(over, "x")).rejects.toBeInstanceOf(InvalidReferenceError);
      await expect(backend.get(over)).rejects.toBeInstanceOf(InvalidReferenceError);
    });

    it("keys that differ only in case coexist (Key Vault names are case-insensitive)", async () => {
      const caseNs = `${ns}.case`;
      const upper = { namespace: caseNs, key: "KEY" };
      const title = { namespace: caseNs, key: "Key" };
      const lower = { namespace: caseNs, key: "key" };
      await backend.put?.(upper, "upper");
      await backend.put?.(title, "title");
      await backend.put?.(lower, "lower");
      expect((await backend.get(upper)).reveal()).toBe("upper");
      expect((await backend.get(title)).reveal()).toBe("title");
      expect((await backend.get(lower)).reveal()).toBe("lower");
      expect((await backend.list?.(caseNs))?.map((l) => l.key)).toEqual(["KEY", "Key", "key"]);
    });

    it("round-trips binary values as base64 with their own content type", async () => {
      const target = ref();
      const bytes = Uint8Array.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0xc3, 0x28]); // not valid UTF-8
      await backend.put?.(target, bytes);
      const value = await backend.get(target);
      expect(value.isBinary).toBe(true);
      expect([...value.revealBytes()]).toEqual([...bytes]);
      expect((await raw.getSecret(nameOf(target))).properties.contentType).toBe(BINARY_CONTENT_TYPE);
    });

    it("writes Keyway's tags and keeps them out of the listed metadata", async () => {
      const target = ref();
      await backend.put?.(target, "tagged", { description: "the db", tags: { team: "core" } });
      const stored = await raw.getSecret(nameOf(target));
      expect(stored.properties.tags).toMatchObject({
        "keyway-namespace": ns,
        "keyway-key": target.key,
        "keyway-description": "the db",
        team: "core",
      });
      const listed = (await backend.list?.(ns))?.find((l) => l.key === target.key);
      expect(listed?.metadata).toMatchObject({ description: "the db", tags: { team: "core" } });
    });

    it("an aborted request and a closed port are BackendUnavailableError, never not-found", async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(backend.get(ref(), { signal: controller.signal })).rejects.toBeInstanceOf(
        BackendUnavailableError,
      );
      const closed = createAzureBackend(options({ vaultUrl: "https://127.0.0.1:9" }));
      await expect(closed.get(ref())).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    const protectedVault = lowkey?.extra.protectedEndpoint;
    it.skipIf(!protectedVault)(
      "on a purge-protected vault, purgeOnDelete and purgeOnConflict are ConfigurationError, nothing purged (issue #14)",
      async () => {
        const on = (extra: Partial<AzureBackendOptions>) =>
          createAzureBackend(options({ vaultUrl: protectedVault, ...extra }));
        const protectedRaw = rawClient(protectedVault);
        const target = ref();
        const deleting = on({ purgeOnDelete: true });
        await deleting.put?.(target, "kept");
        const deleteError = await deleting.delete?.(target).catch((e: unknown) => e);
        expect(deleteError).toBeInstanceOf(ConfigurationError);
        expect((deleteError as Error).message).toMatch(/purge protection.*purgeOnDelete: false/s);
        // Deleted, and still recoverable: the check came before any purge.
        expect((await protectedRaw.getDeletedSecret(nameOf(target))).properties.recoveryLevel).toBe(
          "Recoverable",
        );
        const conflictError = await on({ purgeOnConflict: true })
          .put?.(target, "new-value")
          .catch((e: unknown) => e);
        expect(conflictError).toBeInstanceOf(ConfigurationError);
        expect((conflictError as Error).message).toMatch(/purgeOnConflict: false/);
        expect((await protectedRaw.getDeletedSecret(nameOf(target))).name).toBe(nameOf(target));
        // The default (recover) still works there.
        await on({}).put?.(target, "after");
        expect((await on({}).get(target)).reveal()).toBe("after");
      },
    );

    it("a credential that cannot get a token is AccessDeniedError", async () => {
      const { CredentialUnavailableError } = await import("@azure/identity");
      const denied = createAzureBackend(
        options({
          credential: {
            getToken: async () => {
              throw new CredentialUnavailableError("no identity here");
            },
          },
        }),
      );
      await expect(denied.get(ref())).rejects.toBeInstanceOf(AccessDeniedError);
    });
  });
});
