// Issue #14: the harness creates Lowkey Vault's test vaults through its management API before it
// reports ready. Lowkey cannot run on these machines, so this checks the request the harness
// sends against the shape read in Lowkey's source (VaultManagementController, VaultModel,
// RecoveryLevel in nagyesta/lowkey-vault), answered by a local HTTPS stand-in.

import { LOWKEY_TEST_RECOVERY_LEVEL, lowkeyCreateVault } from "@keyway/test-servers";
import { afterEach, describe, expect, it } from "vitest";
import { RECORDED_VAULT, type RecordedVault, startRecordedVault } from "./recorded-vault.js";

let vault: RecordedVault | undefined;
afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

describe("lowkeyCreateVault", () => {
  it("POSTs baseUri, recoveryLevel and recoverableDays as JSON to /management/vault, without a token", async () => {
    vault = await startRecordedVault(
      [
        {
          method: "POST",
          path: "/management/vault",
          status: 200,
          // VaultModel as Lowkey returns it (created: epoch seconds).
          body: {
            baseUri: RECORDED_VAULT,
            recoveryLevel: LOWKEY_TEST_RECOVERY_LEVEL,
            recoverableDays: 90,
            created: 1764739200,
          },
        },
      ],
      { challenge: false },
    );
    await lowkeyCreateVault(vault.url, vault.ca, vault.url, LOWKEY_TEST_RECOVERY_LEVEL);
    expect(vault.unexpected).toEqual([]);
    expect(vault.remaining()).toEqual([]);
    const [sent] = vault.seen;
    expect(sent?.headers["content-type"]).toBe("application/json");
    expect(sent?.headers.authorization).toBeUndefined();
    expect(JSON.parse(sent?.body ?? "")).toEqual({
      baseUri: vault.url,
      recoveryLevel: "Recoverable+Purgeable",
      recoverableDays: 90,
    });
  });

  it("fails with Lowkey's status and message when the vault is refused or comes back different", async () => {
    vault = await startRecordedVault(
      [
        {
          method: "POST",
          path: "/management/vault",
          status: 409,
          body: { message: "Vault is already created with uri: https://127.0.0.1:1" },
        },
        {
          method: "POST",
          path: "/management/vault",
          status: 200,
          body: { baseUri: "https://127.0.0.1:1", recoveryLevel: "Recoverable", recoverableDays: 90 },
        },
      ],
      { challenge: false },
    );
    await expect(
      lowkeyCreateVault(vault.url, vault.ca, vault.url, LOWKEY_TEST_RECOVERY_LEVEL),
    ).rejects.toThrow(/409 .*already created/);
    await expect(
      lowkeyCreateVault(vault.url, vault.ca, vault.url, LOWKEY_TEST_RECOVERY_LEVEL),
    ).rejects.toThrow(/-> 200 .*"Recoverable"/);
  });
});
