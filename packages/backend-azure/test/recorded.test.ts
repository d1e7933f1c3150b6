// Issue #14: real-Azure shapes Lowkey Vault never produces, answered from recorded responses
// (test/recorded.ts) by a local HTTPS server, through the real @azure/keyvault-secrets SDK: its
// error parsing, paging and delete polling run as they do against Azure. Also purge protection
// (a configuration problem, not a denial) and probeVersion (issue #15).
import type { TokenCredential } from "@azure/identity";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretRef,
} from "@keyway/core";
import { afterEach, describe, expect, it } from "vitest";
import { type AzureBackendOptions, createAzureBackend, encodeName } from "../src/index.js";
import { isPurgeable } from "../src/soft-delete.js";
import {
  beingDeleted,
  deletedBundle,
  deletedNotYet,
  errorBody,
  getDisabled,
  listItem,
  nextLink,
  purged,
  purgeNotPermitted,
  purgeProtected,
  putDeletedConflict,
  secretBundle,
  version,
} from "./recorded.js";
import { type Exchange, type RecordedVault, type SeenRequest, startRecordedVault } from "./recorded-vault.js";

const credential: TokenCredential = {
  getToken: async () => ({ token: "recorded-token", expiresOnTimestamp: Date.now() + 3_600_000 }),
};
const PREFIX = "kw";
const ref: SecretRef = { namespace: "company.team", key: "DB_PASSWORD" };
const NAME = encodeName(PREFIX, ref);

let vault: RecordedVault | undefined;
afterEach(async () => {
  await vault?.close();
  vault = undefined;
});

async function backendOn(
  script: Exchange[],
  extra: Partial<AzureBackendOptions> = {},
  onRequest?: (request: SeenRequest, count: number) => void,
) {
  vault = await startRecordedVault(script, { onRequest });
  return createAzureBackend({
    vaultUrl: vault.url,
    ca: vault.ca,
    credential,
    // The recorded challenge names vault.azure.net, not 127.0.0.1.
    disableChallengeResourceVerification: true,
    prefix: PREFIX,
    pollIntervalMs: 1,
    ...extra,
  });
}

/** Every exchange was asked for, in order, and nothing else. */
function expectScriptDone() {
  expect(vault?.unexpected).toEqual([]);
  expect(vault?.remaining()).toEqual([]);
}

const purgeRequests = () =>
  (vault?.seen ?? []).filter((r) => r.method === "DELETE" && r.path.startsWith("/deletedsecrets/"));

describe("a disabled secret on real Azure: 403 Forbidden, innererror SecretDisabled", () => {
  it("is SecretDisabledError for get and probeVersion, never access denied", async () => {
    const backend = await backendOn([getDisabled(NAME), getDisabled(NAME)]);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    expectScriptDone();
  });

  it("a 403 that is a real denial (RBAC) stays AccessDeniedError", async () => {
    const denied = {
      method: "GET",
      path: `/secrets/${NAME}`,
      status: 403,
      body: errorBody(
        "Forbidden",
        "Caller is not authorized to perform action on resource.\r\nAction: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'",
        "ForbiddenByRbac",
      ),
    } as const;
    const backend = await backendOn([denied, denied]);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(AccessDeniedError);
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(AccessDeniedError);
    expectScriptDone();
  });
});

describe("list pages with an empty value and a nextLink", () => {
  it("follows every nextLink and misses nothing after an empty page", async () => {
    const a = encodeName(PREFIX, { ...ref, key: "A" });
    const b = encodeName(PREFIX, { ...ref, key: "B" });
    const other = encodeName(PREFIX, { namespace: "other", key: "C" });
    const page = (value: unknown[], token?: string): Exchange => ({
      method: "GET",
      path: "/secrets",
      status: 200,
      body: { value, nextLink: token === undefined ? null : nextLink(token) },
    });
    const backend = await backendOn([
      page([], "p2"),
      page([listItem(a), listItem(other)], "p3"),
      page([], "p4"),
      page([], "p5"),
      page([listItem(b)]),
    ]);
    const listed = await backend.list?.(ref.namespace);
    expect(listed?.map((l) => l.key)).toEqual(["A", "B"]);
    expectScriptDone();
    // Each page after the first is the one its nextLink named.
    expect(vault?.seen.slice(1).map((r) => r.query.get("$skiptoken"))).toEqual(["p2", "p3", "p4", "p5"]);
  });
});

describe("deletedsecrets/{name} answers 404 for seconds after a DELETE", () => {
  it("delete with purgeOnDelete waits through the 404s (and a 409 on the purge) before purging", async () => {
    const backend = await backendOn(
      [
        { method: "DELETE", path: `/secrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        deletedNotYet(NAME),
        deletedNotYet(NAME),
        deletedNotYet(NAME),
        { method: "GET", path: `/deletedsecrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        beingDeleted("DELETE", `/deletedsecrets/${NAME}`),
        purged(NAME),
      ],
      { purgeOnDelete: true },
    );
    await backend.delete?.(ref);
    expectScriptDone();
  });

  it("a caller's signal ends the wait: BackendUnavailableError, and no purge is sent", async () => {
    const controller = new AbortController();
    const script: Exchange[] = [
      { method: "DELETE", path: `/secrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
      ...Array.from({ length: 200 }, () => deletedNotYet(NAME)),
    ];
    const backend = await backendOn(script, { purgeOnDelete: true, pollIntervalMs: 5 }, (_r, count) => {
      if (count === 4) controller.abort();
    });
    const error = await backend.delete?.(ref, { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(purgeRequests()).toEqual([]);
    expect(vault?.seen.length).toBeLessThan(10);
  });

  it("put right after a delete waits for the deleted secret, recovers it, then writes", async () => {
    const backend = await backendOn([
      beingDeleted("PUT", `/secrets/${NAME}`),
      deletedNotYet(NAME),
      beingDeleted("PUT", `/secrets/${NAME}`),
      deletedNotYet(NAME),
      putDeletedConflict(NAME),
      { method: "GET", path: `/deletedsecrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
      // The SDK's recover poller: is it back already? no; recover; poll until GET answers.
      {
        method: "GET",
        path: `/secrets/${NAME}`,
        status: 404,
        body: errorBody("SecretNotFound", "not found"),
      },
      {
        method: "POST",
        path: `/deletedsecrets/${NAME}/recover`,
        status: 200,
        body: secretBundle(NAME, "old"),
      },
      {
        method: "GET",
        path: `/secrets/${NAME}`,
        status: 404,
        body: errorBody("SecretNotFound", "not found"),
      },
      { method: "GET", path: `/secrets/${NAME}`, status: 200, body: secretBundle(NAME, "old") },
      { method: "PUT", path: `/secrets/${NAME}`, status: 200, body: secretBundle(NAME, "new") },
    ]);
    await backend.put?.(ref, "new");
    expectScriptDone();
    expect(JSON.parse(vault?.seen.at(-1)?.body ?? "{}").value).toBe("new");
  });
});

describe("purge on a purge-protected vault is a ConfigurationError naming the option", () => {
  it("purgeOnDelete: the deleted secret's recovery level has no Purgeable, so no purge is sent", async () => {
    const protectedLevel = { recoveryLevel: "Recoverable" };
    const backend = await backendOn(
      [
        {
          method: "DELETE",
          path: `/secrets/${NAME}`,
          status: 200,
          body: deletedBundle(NAME, protectedLevel),
        },
        deletedNotYet(NAME),
        {
          method: "GET",
          path: `/deletedsecrets/${NAME}`,
          status: 200,
          body: deletedBundle(NAME, protectedLevel),
        },
      ],
      { purgeOnDelete: true },
    );
    const error = await backend.delete?.(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/purge protection/);
    expect((error as Error).message).toMatch(/purgeOnDelete: false/);
    expect(purgeRequests()).toEqual([]);
    expectScriptDone();
  });

  it("purgeOnConflict: the soft-deleted name is left as it was, and the value never shows", async () => {
    const backend = await backendOn(
      [
        putDeletedConflict(NAME),
        {
          method: "GET",
          path: `/deletedsecrets/${NAME}`,
          status: 200,
          body: deletedBundle(NAME, { recoveryLevel: "CustomizedRecoverable" }),
        },
      ],
      { purgeOnConflict: true },
    );
    const error = await backend.put?.(ref, "the-new-value").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/purgeOnConflict: false/);
    expect(String((error as Error).message)).not.toContain("the-new-value");
    expect(JSON.stringify(error)).not.toContain("the-new-value");
    expect(purgeRequests()).toEqual([]);
    expectScriptDone();
  });

  it("Azure's 403 'purge protection is enabled' is mapped the same way, for both options", async () => {
    const onDelete = await backendOn(
      [
        { method: "DELETE", path: `/secrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        { method: "GET", path: `/deletedsecrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        purgeProtected(NAME),
      ],
      { purgeOnDelete: true },
    );
    const deleteError = await onDelete.delete?.(ref).catch((e: unknown) => e);
    expect(deleteError).toBeInstanceOf(ConfigurationError);
    expect((deleteError as Error).message).toMatch(/purgeOnDelete: false/);
    expectScriptDone();
    await vault?.close();

    const onConflict = await backendOn(
      [
        putDeletedConflict(NAME),
        { method: "GET", path: `/deletedsecrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        purgeProtected(NAME),
      ],
      { purgeOnConflict: true },
    );
    const putError = await onConflict.put?.(ref, "v").catch((e: unknown) => e);
    expect(putError).toBeInstanceOf(ConfigurationError);
    expect((putError as Error).message).toMatch(/purgeOnConflict: false/);
    expectScriptDone();
  });

  it("a 403 for a missing purge permission stays AccessDeniedError", async () => {
    const backend = await backendOn(
      [
        { method: "DELETE", path: `/secrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        { method: "GET", path: `/deletedsecrets/${NAME}`, status: 200, body: deletedBundle(NAME) },
        purgeNotPermitted(NAME),
      ],
      { purgeOnDelete: true },
    );
    await expect(backend.delete?.(ref)).rejects.toBeInstanceOf(AccessDeniedError);
    expectScriptDone();
  });
});

describe("probeVersion (issue #15)", () => {
  it("returns the current version id, the one get reports, and a new one after a write", async () => {
    const get = (v: string): Exchange => ({
      method: "GET",
      path: `/secrets/${NAME}`,
      status: 200,
      body: secretBundle(NAME, "value", { version: v }),
    });
    const backend = await backendOn([
      get(version(1)),
      get(version(1)),
      get(version(2)),
      {
        method: "GET",
        path: `/secrets/${NAME}`,
        status: 404,
        body: errorBody("SecretNotFound", `A secret with (name/id) ${NAME} was not found in this key vault.`),
      },
    ]);
    const first = await backend.probeVersion?.(ref);
    expect(first).toBe(version(1));
    expect((await backend.get(ref)).metadata.version).toBe(first);
    expect(await backend.probeVersion?.(ref)).toBe(version(2));
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    expectScriptDone();
    // It reads the latest version: no version segment in the path.
    expect(vault?.seen.every((r) => r.path === `/secrets/${NAME}`)).toBe(true);
  });

  it("an expired secret is SecretDisabledError, as for get", async () => {
    const expired = secretBundle(NAME, "value") as { attributes: Record<string, unknown> };
    expired.attributes.exp = 1_000_000_000; // 2001
    const backend = await backendOn([
      { method: "GET", path: `/secrets/${NAME}`, status: 200, body: expired },
    ]);
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    expectScriptDone();
  });
});

describe("recovery levels", () => {
  it("only the levels with Purgeable allow a purge (Key Vault's DeletionRecoveryLevel values)", () => {
    const purgeable = ["Purgeable", "Recoverable+Purgeable", "CustomizedRecoverable+Purgeable"];
    const protectedLevels = [
      "Recoverable",
      "Recoverable+ProtectedSubscription",
      "CustomizedRecoverable",
      "CustomizedRecoverable+ProtectedSubscription",
    ];
    expect(purgeable.map(isPurgeable)).toEqual(purgeable.map(() => true));
    expect(protectedLevels.map(isPurgeable)).toEqual(protectedLevels.map(() => false));
    // Unknown: Key Vault decides, and its 403 is mapped.
    expect(isPurgeable(undefined)).toBe(true);
  });
});
