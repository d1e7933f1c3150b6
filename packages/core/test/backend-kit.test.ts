// defineBackend (issue 19 point 3): what every backend gets from the kit, tested once here with a
// toy vendor, so each backend's suite tests only what is its own.
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  BackendUnavailableError,
  ConfigurationError,
  defineBackend,
  InvalidReferenceError,
  InvalidSecretValueError,
  renamedOption,
  type SecretRef,
  SecretValue,
  sanitizeCause,
} from "../src/backend-kit/index.js";

const SECRET = "kwKITsecret-never-printed-0123";

/** A vendor client that records what happened to it. */
class ToyClient {
  static created = 0;
  closed = false;
  readonly store = new Map<string, string>();
  constructor() {
    ToyClient.created++;
  }
}

const schema = z
  .strictObject({
    name: z.string().optional(),
    token: z.string().min(8),
    limit: z.int().positive().optional(),
  })
  .transform((o) => ({ ...o, limit: o.limit ?? 16 }));

function toy(options: { failCreate?: number; injected?: ToyClient } = {}) {
  let failures = options.failCreate ?? 0;
  // Scrubs the credential it was given, as each backend's mapping does with its settings.
  const mapError = vi.fn(
    (error: unknown, context: { backend: string }, settings: z.output<typeof schema>) =>
      new BackendUnavailableError("toy failed", {
        backend: context.backend,
        cause: sanitizeCause(error, [settings.token]),
      }),
  );
  const create = defineBackend({
    vendor: "Toy Vault",
    defaultName: "toy",
    options: schema,
    capabilities: (s) => ({
      write: true,
      list: true,
      batch: true,
      versions: false,
      caseSensitiveKeys: true,
      maxValueBytes: s.limit,
    }),
    client: {
      create: async () => {
        if (failures-- > 0) throw new Error(`cannot load the SDK (token ${SECRET})`);
        return new ToyClient();
      },
      injected: () => options.injected,
      close: (client) => {
        client.closed = true;
      },
    },
    mapError,
    operations: (kit) => ({
      get: async (ref) => {
        const value = (await kit.client()).store.get(ref.key);
        if (value === undefined) throw new Error(`vendor 404 for ${ref.key}`);
        return SecretValue.fromText(value);
      },
      getMany: async (refs: readonly SecretRef[]) => {
        const client = await kit.client();
        // Answers for the first ref only: the kit fills in the rest.
        const [first] = refs;
        return new Map(first ? [[first, SecretValue.fromText(client.store.get(first.key) ?? "")]] : []);
      },
      list: async () => [...(await kit.client()).store.keys()].map((key) => ({ key, metadata: {} })),
      put: async (ref, value) => {
        (await kit.client()).store.set(ref.key, String(value));
      },
    }),
    extras: (_ops, kit) => ({ limit: () => kit.settings.limit }),
  });
  return { create, mapError };
}

describe("defineBackend", () => {
  it("checks options with the schema: a ConfigurationError naming the option, never its value", () => {
    const { create } = toy();
    const error = (() => {
      try {
        create({ token: "short", limit: -1, extra: SECRET } as never);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("'token'");
    expect(error?.message).toContain("'limit'");
    expect(error?.message).toContain("'extra'");
    expect(error?.message).not.toContain(SECRET);
    expect(create({ token: SECRET, name: "toy:eu" }).name).toBe("toy:eu");
    expect(create({ token: SECRET }).limit()).toBe(16); // defaults and extras
  });

  it("creates the client on first use, once, tries a failed creation again, and closes only its own", async () => {
    ToyClient.created = 0;
    const { create } = toy({ failCreate: 1 });
    const backend = create({ token: SECRET });
    expect(ToyClient.created).toBe(0);
    const first = await backend.get({ namespace: "", key: "K" }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(BackendUnavailableError);
    expect(String((first as Error).cause)).not.toContain(SECRET.slice(2)); // sanitized cause
    await backend.put?.({ namespace: "", key: "K" }, "v");
    await Promise.all([backend.get({ namespace: "", key: "K" }), backend.list?.("")]);
    expect(ToyClient.created).toBe(1);
    await backend.close?.();
    const injected = new ToyClient();
    const own = toy({ injected }).create({ token: SECRET });
    await own.prepare?.();
    await own.close?.();
    expect(injected.closed).toBe(false);
  });

  it("checks references and values before any operation, and maps vendor errors once", async () => {
    const { create, mapError } = toy();
    const backend = create({ token: SECRET, limit: 4 });
    await expect(backend.get({ namespace: "a..b", key: "K" })).rejects.toBeInstanceOf(InvalidReferenceError);
    await expect(backend.list?.("../x")).rejects.toBeInstanceOf(InvalidReferenceError);
    await expect(backend.put?.({ namespace: "", key: "K" }, "12345")).rejects.toThrow(
      /5 bytes; Toy Vault stores at most 4/,
    );
    await expect(backend.put?.({ namespace: "", key: "K" }, 42 as never)).rejects.toBeInstanceOf(
      InvalidSecretValueError,
    );
    expect(mapError).not.toHaveBeenCalled();
    await expect(backend.get({ namespace: "", key: "GONE" })).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(mapError).toHaveBeenCalledTimes(1);
    expect(mapError.mock.calls[0]?.[1]).toMatchObject({ backend: "toy", operation: "get", key: "GONE" });
  });

  it("sorts listings and answers getMany for every ref: invalid ones and unanswered ones as errors", async () => {
    const backend = toy().create({ token: SECRET });
    for (const key of ["b", "C", "a"]) await backend.put?.({ namespace: "", key }, "v");
    expect((await backend.list?.(""))?.map((l) => l.key)).toEqual(["C", "a", "b"]);
    const refs = [
      { namespace: "", key: "a" },
      { namespace: "", key: "bad key" },
      { namespace: "", key: "b" },
    ];
    const result = await backend.getMany?.(refs);
    expect(result?.get(refs[0] as SecretRef)).toBeInstanceOf(SecretValue);
    expect(result?.get(refs[1] as SecretRef)).toBeInstanceOf(InvalidReferenceError);
    expect(result?.get(refs[2] as SecretRef)).toBeInstanceOf(BackendUnavailableError);
  });

  it("rejects (never throws synchronously) on bad input, as the contract asks", () => {
    const backend = toy().create({ token: SECRET });
    expect(() => backend.get(null as never).catch(() => undefined)).not.toThrow();
  });
});

describe("renamedOption", () => {
  it("reads the old name as the new with one DeprecationWarning per code; both names is an error", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      expect(renamedOption({ a: 1, old: 2 }, "old", "fresh", "KEYWAY_TEST_RENAMED")).toEqual({
        a: 1,
        fresh: 2,
      });
      expect(renamedOption({ old: 3 }, "old", "fresh", "KEYWAY_TEST_RENAMED")).toEqual({ fresh: 3 });
      expect(renamedOption({ fresh: 4 }, "old", "fresh", "KEYWAY_TEST_RENAMED")).toEqual({ fresh: 4 });
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[1]).toEqual({ type: "DeprecationWarning", code: "KEYWAY_TEST_RENAMED" });
      expect(() => renamedOption({ old: 1, fresh: 2 }, "old", "fresh", "KEYWAY_TEST_RENAMED")).toThrow(
        ConfigurationError,
      );
    } finally {
      warn.mockRestore();
    }
  });
});
