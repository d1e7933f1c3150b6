// Unit tests of the backend's own logic with a scripted client (the server suite runs the same
// paths against Lowkey Vault): option checks, checks before any call, soft-delete handling,
// validity windows, list filtering, and that importing the package loads no Azure SDK.
import { readdirSync, readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { RestError } from "@azure/core-rest-pipeline";
import type { KeyVaultSecret, SecretProperties } from "@azure/keyvault-secrets";
import { printedForms } from "@keyway/backend-test-suite";
import {
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  InvalidSecretValueError,
  SecretDisabledError,
} from "@keyway/core";
import { describe, expect, it, vi } from "vitest";
import { definition } from "../src/definition.js";
import {
  type AzureBackendOptions,
  type AzureSecretClient,
  createAzureBackend,
  encodeName,
} from "../src/index.js";

const VAULT = "https://vault.example";
const restError = (statusCode: number, code: string) => new RestError(code, { statusCode, code });

function props(name: string, extra: Partial<SecretProperties> = {}): SecretProperties {
  return { name, vaultUrl: VAULT, version: "v1", enabled: true, ...extra } as SecretProperties;
}

/** A client whose every method is a spy; tests script the ones they need. */
function fakeClient(overrides: Partial<Record<keyof AzureSecretClient, unknown>> = {}) {
  const fail = () => Promise.reject(new Error("not scripted"));
  return {
    getSecret: vi.fn(fail),
    setSecret: vi.fn(async (name: string) => ({ name, properties: props(name) }) as KeyVaultSecret),
    beginDeleteSecret: vi.fn(fail),
    beginRecoverDeletedSecret: vi.fn(fail),
    purgeDeletedSecret: vi.fn(async () => undefined),
    getDeletedSecret: vi.fn(fail),
    listPropertiesOfSecrets: vi.fn(),
    ...overrides,
  } as unknown as AzureSecretClient & Record<keyof AzureSecretClient, ReturnType<typeof vi.fn>>;
}

const backendWith = (client: AzureSecretClient, options: Partial<AzureBackendOptions> = {}) =>
  createAzureBackend({ client, pollIntervalMs: 1, ...options });

const ref = { namespace: "company.team", key: "DB_PASSWORD" };

describe("options are checked in the factory", () => {
  const secret = "Zq8~the-client-secret";
  it.each<[string, unknown]>([
    ["no vaultUrl and no client", {}],
    ["an http vaultUrl", { vaultUrl: "http://vault.example" }],
    ["a vaultUrl with credentials", { vaultUrl: `https://user:${secret}@vault.example` }],
    ["an unknown credential type", { vaultUrl: VAULT, credential: { type: "password", password: secret } }],
    [
      "a client secret without tenant",
      { vaultUrl: VAULT, credential: { type: "clientSecret", clientId: "c", clientSecret: secret } },
    ],
    ["an unknown credential field", { vaultUrl: VAULT, credential: { type: "managedIdentity", secret } }],
    ["a prefix with a slash", { vaultUrl: VAULT, prefix: "a/b" }],
    ["a CA that is not PEM", { vaultUrl: VAULT, ca: "not a certificate" }],
    ["a zero timeout", { vaultUrl: VAULT, requestTimeoutMs: 0 }],
    ["a reserved default tag", { vaultUrl: VAULT, tags: { "keyway-key": "x" } }],
  ])("refuses %s with ConfigurationError, echoing no credential", (_label, options) => {
    const error = (() => {
      try {
        createAzureBackend(options as AzureBackendOptions);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(printedForms(error)).not.toContain(secret);
  });

  it("accepts each credential mode without connecting", () => {
    for (const credential of [
      undefined,
      { type: "default" as const },
      { type: "clientSecret" as const, tenantId: "t", clientId: "c", clientSecret: secret },
      { type: "managedIdentity" as const, clientId: "c" },
      { type: "workloadIdentity" as const },
      { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) },
    ]) {
      expect(createAzureBackend({ vaultUrl: VAULT, credential }).name).toBe("azure");
    }
  });
});

describe("importing the package loads no Azure SDK", () => {
  it("src/ imports @azure/* only as types or dynamically", () => {
    const dir = new URL("../src/", import.meta.url);
    for (const file of readdirSync(dir)) {
      const text = readFileSync(new URL(file, dir), "utf8");
      const staticImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*from\s+"(@azure\/[^"]+)"/gm)];
      expect(staticImports.map((m) => `${file}: ${m[1]}`)).toEqual([]);
    }
  });
});

describe("checks before any call", () => {
  it("refuses an invalid ref, a too-long name and an oversized value without calling Key Vault", async () => {
    const client = fakeClient();
    const backend = backendWith(client);
    await expect(backend.get({ namespace: "a", key: "bad key" })).rejects.toBeInstanceOf(
      InvalidReferenceError,
    );
    await expect(backend.get({ namespace: "a", key: "K".repeat(200) })).rejects.toBeInstanceOf(
      InvalidReferenceError,
    );
    await expect(backend.get(ref, { version: "../../x" })).rejects.toBeInstanceOf(InvalidReferenceError);
    const big = "v".repeat(25_601);
    const error = await backend.put?.(ref, big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(printedForms(error)).not.toContain(big.slice(0, 40));
    await expect(backend.put?.(ref, new Uint8Array(19_201))).rejects.toBeInstanceOf(InvalidSecretValueError);
    await expect(backend.put?.(ref, "x", { tags: { "keyway-key": "forged" } })).rejects.toBeInstanceOf(
      InvalidSecretValueError,
    );
    expect(client.getSecret).not.toHaveBeenCalled();
    expect(client.setSecret).not.toHaveBeenCalled();
  });
});

describe("get", () => {
  const secret = (extra: Partial<SecretProperties>, value = "s3cr3t"): KeyVaultSecret => ({
    name: "n",
    value,
    properties: props("n", extra),
  });

  it.each<[string, Partial<SecretProperties>]>([
    ["disabled", { enabled: false }],
    ["expired", { expiresOn: new Date(Date.now() - 60_000) } as Partial<SecretProperties>],
    ["not yet valid", { notBefore: new Date(Date.now() + 60_000) } as Partial<SecretProperties>],
  ])("a secret that is %s is SecretDisabledError, never its value", async (_label, extra) => {
    const client = fakeClient({ getSecret: vi.fn(async () => secret(extra)) });
    const error = await backendWith(client)
      .get(ref)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecretDisabledError);
    expect(printedForms(error)).not.toContain("s3cr3t");
  });

  it("returns text with metadata from tags, and bytes for the binary content type", async () => {
    const client = fakeClient({
      getSecret: vi.fn(async (_name: string, o: { version?: string }) =>
        o.version === "b1"
          ? {
              name: "n",
              value: "AAEC/w==",
              properties: props("n", { contentType: "application/octet-stream;base64" }),
            }
          : secret({ tags: { "keyway-description": "d", "keyway-key": "DB_PASSWORD", team: "core" } }),
      ),
    });
    const backend = backendWith(client);
    const text = await backend.get(ref);
    expect(text.reveal()).toBe("s3cr3t");
    expect(text.metadata).toMatchObject({ description: "d", tags: { team: "core" }, version: "v1" });
    const bytes = await backend.get(ref, { version: "b1" });
    expect(bytes.isBinary).toBe(true);
    expect([...bytes.revealBytes()]).toEqual([0, 1, 2, 255]);
  });

  it("sends the encoded name and honours the per-request timeout and signal", async () => {
    const client = fakeClient({ getSecret: vi.fn(async () => secret({})) });
    const signal = new AbortController().signal;
    await backendWith(client, { requestTimeoutMs: 1234 }).get(ref, { signal });
    expect(client.getSecret).toHaveBeenCalledWith(encodeName("keyway", ref), {
      abortSignal: signal,
      requestOptions: { timeout: 1234 },
      version: undefined,
    });
  });
});

describe("put on a soft-deleted name", () => {
  const conflictOnce = () => {
    let calls = 0;
    return vi.fn(async (name: string) => {
      if (calls++ === 0) throw restError(409, "Conflict");
      return { name, properties: props(name) };
    });
  };
  const poller = (steps = 2) => {
    let left = steps;
    return {
      isDone: () => left <= 0,
      poll: vi.fn(async () => void left--),
      getResult: () => ({ recoveryId: "r" }),
    };
  };

  it("recovers it, waits for the recovery, then writes", async () => {
    const recover = poller();
    const client = fakeClient({
      setSecret: conflictOnce(),
      getDeletedSecret: vi.fn(async () => ({ name: "n", properties: props("n") })),
      beginRecoverDeletedSecret: vi.fn(async () => recover),
    });
    await backendWith(client).put?.(ref, "new");
    expect(client.beginRecoverDeletedSecret).toHaveBeenCalledOnce();
    expect(recover.poll).toHaveBeenCalledTimes(2);
    expect(client.purgeDeletedSecret).not.toHaveBeenCalled();
    expect(client.setSecret).toHaveBeenCalledTimes(2);
  });

  it("purges it instead with purgeOnConflict", async () => {
    const client = fakeClient({
      setSecret: conflictOnce(),
      getDeletedSecret: vi.fn(async () => ({ name: "n", properties: props("n") })),
    });
    await backendWith(client, { purgeOnConflict: true }).put?.(ref, "new");
    expect(client.purgeDeletedSecret).toHaveBeenCalledOnce();
    expect(client.beginRecoverDeletedSecret).not.toHaveBeenCalled();
  });

  it("a 409 whose deleted secret never shows stays an error after a bounded wait (no endless loop)", async () => {
    const client = fakeClient({
      setSecret: vi.fn(async () => {
        throw restError(409, "Conflict");
      }),
      getDeletedSecret: vi.fn(async () => {
        throw restError(404, "SecretNotFound");
      }),
    });
    await expect(backendWith(client).put?.(ref, "x")).rejects.toBeInstanceOf(BackendUnavailableError);
    // Right after a DELETE, Azure answers 404 on deletedsecrets/{name} while the name is taken:
    // the write is tried again a bounded number of times (30), one poll interval apart.
    expect(client.setSecret).toHaveBeenCalledTimes(30);
    expect(client.getDeletedSecret).toHaveBeenCalledTimes(29);
  });
});

describe("delete", () => {
  it("waits for the deletion, purges with purgeOnDelete, and stops waiting when aborted", async () => {
    let left = 1;
    const deleting = {
      isDone: () => left <= 0,
      poll: vi.fn(async () => void left--),
      getResult: () => ({ recoveryId: "r" }),
    };
    const client = fakeClient({ beginDeleteSecret: vi.fn(async () => deleting) });
    await backendWith(client, { purgeOnDelete: true }).delete?.(ref);
    expect(deleting.poll).toHaveBeenCalledOnce();
    expect(client.purgeDeletedSecret).toHaveBeenCalledOnce();

    // The caller gives up while the backend waits between polls: the first isDone() comes right
    // before that 60 s wait begins, and the abort follows on the next turn of the event loop (an
    // event, not a fixed 50 ms). The wait must end at once; were it not, this test would run
    // into its timeout. Nothing here measures time (trust issue #20 point 9).
    const controller = new AbortController();
    const never = {
      isDone: vi.fn(() => {
        setImmediate(() => controller.abort());
        return false;
      }),
      poll: vi.fn(async () => undefined),
      getResult: () => undefined,
    };
    const slow = fakeClient({ beginDeleteSecret: vi.fn(async () => never) });
    const error = await backendWith(slow, { pollIntervalMs: 60_000 })
      .delete?.(ref, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(never.poll).not.toHaveBeenCalled(); // it ended during the first wait
  });
});

describe("list", () => {
  it("returns exactly the namespace's keys (not children, other tenants, prefixes or foreign names), sorted", async () => {
    const names = [
      encodeName("keyway", { namespace: "company.team", key: "b" }),
      encodeName("keyway", { namespace: "company.team", key: "B" }),
      encodeName("keyway", { namespace: "company.team", key: "A_1" }),
      encodeName("keyway", { namespace: "company.team.child", key: "C" }),
      encodeName("keyway", { namespace: "company", key: "D" }),
      encodeName("keyway", { tenant: "t1", namespace: "company.team", key: "E" }),
      encodeName("other", { namespace: "company.team", key: "F" }),
      "hand-made-secret",
      // Same meaning, non-canonical spelling: not written by Keyway, so not listed.
      "keyway-0-0company-1team-0-4-4x-0",
    ];
    const client = fakeClient({
      listPropertiesOfSecrets: vi.fn(async function* () {
        for (const name of names)
          yield props(name.toUpperCase(), { tags: { "keyway-description": `desc ${name}` } });
      }),
    });
    const listed = await backendWith(client).list?.("company.team");
    expect(listed?.map((l) => l.key)).toEqual(["A_1", "B", "b"]);
    expect(listed?.[0]?.metadata.description).toContain("desc");
    const tenant = await backendWith(client).list?.("company.team", { tenant: "t1" });
    expect(tenant?.map((l) => l.key)).toEqual(["E"]);
  });
});

describe("through the real SDK pipeline, without a vault", () => {
  const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) };

  it("a vault that accepts connections but never answers is BackendUnavailableError after timeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const backend = createAzureBackend({
        vaultUrl: `https://127.0.0.1:${port}`,
        credential,
        requestTimeoutMs: 300,
      });
      const started = Date.now();
      await expect(backend.get(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("a closed port is BackendUnavailableError, never not-found", async () => {
    const backend = createAzureBackend({
      vaultUrl: "https://127.0.0.1:9",
      credential,
      requestTimeoutMs: 2_000,
    });
    await expect(backend.get(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(backend.list?.("company")).rejects.toBeInstanceOf(BackendUnavailableError);
  });
});

describe("definition (keyway.yaml)", () => {
  it("parses config options and refuses unknown or code-only ones", () => {
    const ok = definition.optionsSchema.safeParse({
      vaultUrl: VAULT,
      credential: { type: "clientSecret", tenantId: "t", clientId: "c", clientSecret: "s" },
      prefix: "prod",
      purgeOnDelete: true,
    });
    expect(ok.success).toBe(true);
    expect(definition.optionsSchema.safeParse({ vaultUrl: "http://x" }).success).toBe(false);
    expect(definition.optionsSchema.safeParse({ vaultUrl: VAULT, client: {} }).success).toBe(false);
    expect(definition.optionsSchema.safeParse({ vaultUrl: VAULT, credential: { type: "x" } }).success).toBe(
      false,
    );
    const created = definition.create({ vaultUrl: VAULT }, { name: "prod", env: {} });
    expect(created.name).toBe("prod");
    expect(definition.type).toBe("azure");
  });
});
