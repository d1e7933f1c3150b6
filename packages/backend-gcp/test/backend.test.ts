// Unit tests with a fabricated client: option checks, lazy SDK import, the put flow on an
// existing secret, checksums, and what never reaches the server. The real-server behaviour is
// in the *.server.test.ts files.

import { printedForms } from "@keyway/backend-test-suite";
import {
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  SecretNotFoundError,
} from "@keyway/core";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { crc32c, parseEndpoint } from "../src/client.js";
import { definition } from "../src/definition.js";
import { createGcpBackend, type GcpBackendOptions, type GcpSecretManagerClient } from "../src/index.js";

const sdkLoaded = vi.hoisted(() => ({ count: 0 }));
vi.mock("@google-cloud/secret-manager", async (importOriginal) => {
  sdkLoaded.count++;
  return importOriginal();
});

const PRIVATE_KEY =
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC-unit-test-key\n-----END PRIVATE KEY-----\n";
const ref = { namespace: "team", key: "API_TOKEN" };

/** A fake client recording calls; each method answers from `answers` or throws what it holds. */
function fakeClient(answers: Record<string, unknown[] | (() => unknown)> = {}) {
  const calls: Array<{ method: string; request: Record<string, unknown>; options: Record<string, unknown> }> =
    [];
  const handler =
    (method: string) => async (request: Record<string, unknown>, options: Record<string, unknown>) => {
      calls.push({ method, request, options });
      const answer = answers[method];
      const result =
        typeof answer === "function"
          ? answer()
          : (answer ?? (method === "listSecrets" ? [[], null, {}] : [{}]));
      if (result instanceof Error) throw result;
      return result;
    };
  const methods = [
    "accessSecretVersion",
    "getSecret",
    "createSecret",
    "updateSecret",
    "addSecretVersion",
    "listSecrets",
    "deleteSecret",
  ];
  const client = Object.fromEntries([
    ...methods.map((m) => [m, handler(m)]),
    ["close", vi.fn(async () => {})],
  ]);
  return { client: client as unknown as GcpSecretManagerClient, calls };
}
const grpcError = (code: number) => Object.assign(new Error(`${code} STATUS: details`), { code });

describe("createGcpBackend options", () => {
  it.each<[string, unknown]>([
    ["no project", {}],
    ["a project with a slash", { project: "a/b" }],
    ["a prefix outside the id alphabet", { project: "p", prefix: "kw.prod" }],
    ["a zero timeout", { project: "p", requestTimeoutMs: 0 }],
    ["a page size over 25000", { project: "p", listPageSize: 25_001 }],
    ["an unknown credentials type", { project: "p", credentials: { type: "api_key" } }],
    ["a key file without a path", { project: "p", credentials: { type: "key_file" } }],
    ["a malformed emulator endpoint", { project: "p", emulatorEndpoint: "http://127.0.0.1:8085" }],
  ])("refuses %s with ConfigurationError", (_, options) => {
    expect(() => createGcpBackend(options as GcpBackendOptions)).toThrow(ConfigurationError);
  });

  it("never echoes the private key, and never sends credentials to an emulator", () => {
    const broken = { type: "service_account", client_email: "not-an-email", private_key: PRIVATE_KEY };
    const error = (() => {
      try {
        createGcpBackend({ project: "p", credentials: broken as never });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(printedForms(error)).not.toContain("unit-test-key");
    const key = {
      type: "service_account",
      client_email: "sa@p.iam.gserviceaccount.com",
      private_key: PRIVATE_KEY,
    } as const;
    expect(() =>
      createGcpBackend({ project: "p", credentials: key, emulatorEndpoint: "127.0.0.1:1" } as never),
    ).toThrow(/takes no 'credentials'/);
    expect(createGcpBackend({ project: "p", credentials: key }).name).toBe("gcp");
  });

  it("parses emulator endpoints", () => {
    expect(parseEndpoint("127.0.0.1:8085")).toEqual({ host: "127.0.0.1", port: 8085 });
    expect(parseEndpoint("[::1]:9090")).toEqual({ host: "::1", port: 9090 });
    expect(parseEndpoint("gcp-emulator:9090")).toEqual({ host: "gcp-emulator", port: 9090 });
    expect(parseEndpoint("127.0.0.1:0")).toBeUndefined();
    expect(parseEndpoint("127.0.0.1")).toBeUndefined();
  });
});

describe("lazy SDK", () => {
  it("creating a backend does not import @google-cloud/secret-manager; the first call does", async () => {
    const before = sdkLoaded.count;
    const backend = createGcpBackend({
      project: "p",
      emulatorEndpoint: "127.0.0.1:1",
      requestTimeoutMs: 200,
    });
    expect(sdkLoaded.count).toBe(before);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(sdkLoaded.count).toBe(before + 1);
    await backend.close?.();
  });
});

describe("with a fabricated client", () => {
  let fake: ReturnType<typeof fakeClient>;
  beforeEach(() => {
    fake = fakeClient();
  });

  it("turns gax retries off and passes the timeout on every call", async () => {
    fake = fakeClient({
      accessSecretVersion: [{ name: "x/versions/3", payload: { data: Buffer.from("v") } }],
    });
    const backend = createGcpBackend({ project: "p", client: fake.client, requestTimeoutMs: 1234 });
    expect((await backend.get(ref)).metadata.version).toBe("3");
    await backend.list?.("team");
    await backend.delete?.(ref);
    for (const call of fake.calls) {
      expect(call.options).toMatchObject({ retry: null, timeout: 1234 });
      expect(call.options).not.toHaveProperty("maxRetries");
    }
    expect(fake.calls.find((c) => c.method === "listSecrets")?.options.autoPaginate).toBe(false);
  });

  it("checks the value before any call: too big, lone surrogate, wrong type", async () => {
    const backend = createGcpBackend({ project: "p", client: fake.client });
    const big = "s".repeat(65_537);
    const error = await backend.put?.(ref, big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidSecretValueError);
    expect(printedForms(error)).not.toContain("ssssssssss");
    await expect(backend.put?.(ref, "bad \ud800 half")).rejects.toBeInstanceOf(InvalidSecretValueError);
    await expect(backend.put?.(ref, 42 as never)).rejects.toBeInstanceOf(InvalidSecretValueError);
    await expect(backend.put?.(ref, "x", { description: "d".repeat(17_000) })).rejects.toBeInstanceOf(
      InvalidSecretValueError,
    );
    expect(fake.calls).toEqual([]);
  });

  it("on an existing secret: reads it, updates annotations with its etag, then adds the version with a CRC32C", async () => {
    fake = fakeClient({
      createSecret: () => grpcError(6),
      getSecret: [
        {
          etag: "etag-1",
          labels: { "keyway-ns": "old", other: "kept" },
          annotations: { "keyway-description": "d0", foreign: "kept" },
        },
      ],
    });
    const backend = createGcpBackend({ project: "p", client: fake.client });
    await backend.put?.(ref, "value", { tags: { a: "1" } });
    expect(fake.calls.map((c) => c.method)).toEqual([
      "createSecret",
      "getSecret",
      "updateSecret",
      "addSecretVersion",
    ]);
    const update = fake.calls[2]?.request as {
      secret: Record<string, Record<string, string>>;
      updateMask: { paths: string[] };
    };
    expect(update.secret.etag).toBe("etag-1");
    expect(update.secret.annotations).toMatchObject({
      "keyway-description": "d0",
      foreign: "kept",
      "keyway-tags": '{"a":"1"}',
    });
    expect(update.secret.labels).toMatchObject({ other: "kept", "managed-by": "keyway" });
    expect(update.updateMask.paths).toEqual(["annotations", "labels"]);
    const payload = fake.calls[3]?.request.payload as { data: Uint8Array; dataCrc32c: number };
    expect(payload.dataCrc32c).toBe(crc32c(new TextEncoder().encode("value")));
  });

  it("skips the update when nothing changes", async () => {
    const backend = createGcpBackend({ project: "p", client: fake.client });
    await backend.put?.(ref, "v");
    const created = fake.calls[0]?.request as {
      secret: { labels: Record<string, string>; annotations: Record<string, string> };
    };
    fake = fakeClient({ createSecret: () => grpcError(6), getSecret: [{ etag: "e", ...created.secret }] });
    await createGcpBackend({ project: "p", client: fake.client }).put?.(ref, "v2");
    expect(fake.calls.map((c) => c.method)).toEqual(["createSecret", "getSecret", "addSecretVersion"]);
  });

  it("a payload whose CRC32C does not match is unavailable (retryable), not a value", async () => {
    fake = fakeClient({
      accessSecretVersion: [
        { name: "x/versions/1", payload: { data: Buffer.from("tampered"), dataCrc32c: "12345" } },
      ],
    });
    const backend = createGcpBackend({ project: "p", client: fake.client });
    await expect(backend.get(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("a failed metadata read does not fail the value; a failed access never reads as a value", async () => {
    fake = fakeClient({
      accessSecretVersion: [{ name: "x/versions/1", payload: { data: Buffer.from("ok") } }],
      getSecret: () => grpcError(7),
    });
    expect((await createGcpBackend({ project: "p", client: fake.client }).get(ref)).reveal()).toBe("ok");
    fake = fakeClient({ accessSecretVersion: () => grpcError(5), getSecret: () => grpcError(7) });
    await expect(createGcpBackend({ project: "p", client: fake.client }).get(ref)).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
  });

  it("a server repeating a page token is an error, not an endless loop", async () => {
    fake = fakeClient({ listSecrets: [[], null, { nextPageToken: "same" }] });
    await expect(
      createGcpBackend({ project: "p", client: fake.client }).list?.("team"),
    ).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(fake.calls).toHaveLength(2);
  });

  it("close() leaves an injected client open", async () => {
    const backend = createGcpBackend({ project: "p", client: fake.client });
    await backend.close?.();
    expect(fake.client.close).not.toHaveBeenCalled();
  });
});

describe("crc32c", () => {
  it("matches the Castagnoli check value", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array())).toBe(0);
  });
});

describe("definition (keyway.yaml)", () => {
  it("accepts the documented shapes and creates a named backend without connecting", () => {
    const parsed = definition.optionsSchema.safeParse({
      project: "my-project",
      prefix: "kw",
      timeoutMs: 5000,
    });
    expect(parsed.success).toBe(true);
    if (parsed.success)
      expect(definition.create(parsed.data, { name: "gcp:prod", env: {} }).name).toBe("gcp:prod");
    expect(definition.type).toBe("gcp");
    expect(
      definition.optionsSchema.safeParse({
        project: "p",
        credentials: { type: "key_file", keyFilename: "/k.json" },
      }).success,
    ).toBe(true);
    expect(
      definition.optionsSchema.safeParse({ project: "p", emulatorEndpoint: "127.0.0.1:8085" }).success,
    ).toBe(true);
  });

  it("reports bad options by path, never echoing the private key", () => {
    const cases: unknown[] = [
      { project: "p", unknown: 1 },
      { project: "p", prefix: "a.b" },
      { project: "p", credentials: { type: "service_account", client_email: "x", private_key: PRIVATE_KEY } },
      {
        project: "p",
        emulatorEndpoint: "127.0.0.1:1",
        credentials: { type: "service_account", client_email: "a@b", private_key: PRIVATE_KEY },
      },
    ];
    for (const input of cases) {
      const result = definition.optionsSchema.safeParse(input);
      expect(result.success).toBe(false);
      if (!result.success) expect(JSON.stringify(result.error.issues)).not.toContain("unit-test-key");
    }
  });
});
