import { describe, expect, it } from "vitest";
import {
  AccessDeniedError,
  BackendUnavailableError,
  createResolver,
  InvalidReferenceError,
  InvalidSecretValueError,
  SecretDisabledError,
  SecretNotFoundError,
  SubkeyNotFoundError,
} from "../src/index.js";
import { fakeClock, flush, scriptedBackend } from "./helpers.js";

const ref = (key: string) => ({ namespace: "company.team", key });
const down = () => new BackendUnavailableError("connection refused");

describe("resolver cache", () => {
  it("single-flight: concurrent resolves of one key make one backend call", async () => {
    const backend = scriptedBackend({ A: "a" }, { latencyMs: 5 });
    const resolver = createResolver({ backend });
    const values = await Promise.all(Array.from({ length: 50 }, () => resolver.resolve(ref("A"))));
    expect(values.every((v) => v.reveal() === "a")).toBe(true);
    expect(backend.calls).toEqual(["A"]);
    expect(resolver.stats()).toMatchObject({ backendCalls: 1, misses: 50 });
  });

  it("serves hits from cache until the TTL, then reads the backend again", async () => {
    const clock = fakeClock();
    const backend = scriptedBackend({ A: "a" });
    const resolver = createResolver({ backend, cache: { ttlMs: 1000, jitter: 0, refreshAhead: 0, clock } });
    await resolver.resolve(ref("A"));
    clock.advance(999);
    await resolver.resolve(ref("A"));
    expect(backend.calls).toHaveLength(1);
    clock.advance(2);
    await resolver.resolve(ref("A"));
    expect(backend.calls).toHaveLength(2);
    expect(resolver.stats().hits).toBe(1);
  });

  it("jitter shortens each entry's TTL by up to the fraction, so a cold fill does not expire at once", async () => {
    const clock = fakeClock();
    let r = 0;
    const randoms = [0, 0.99];
    const backend = scriptedBackend({ A: "a", B: "b" });
    const resolver = createResolver({
      backend,
      cache: { ttlMs: 1000, jitter: 0.5, refreshAhead: 0, clock, random: () => randoms[r++ % 2] ?? 0 },
    });
    await resolver.resolve(ref("A")); // ttl 1000
    await resolver.resolve(ref("B")); // ttl ~505
    clock.advance(600);
    await resolver.resolve(ref("A"));
    await resolver.resolve(ref("B"));
    expect(backend.calls).toEqual(["A", "B", "B"]);
  });

  it("negative cache: a not-found is remembered for negativeTtlMs, then asked again", async () => {
    const clock = fakeClock();
    const backend = scriptedBackend({});
    const resolver = createResolver({ backend, cache: { negativeTtlMs: 100, clock } });
    await expect(resolver.resolve(ref("X"))).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(resolver.resolve(ref("X"))).rejects.toThrow("Cannot find secret for key 'X'.");
    expect(backend.calls).toHaveLength(1);
    expect(resolver.stats().negativeHits).toBe(1);
    clock.advance(101);
    await expect(resolver.resolve(ref("X"))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(backend.calls).toHaveLength(2);
  });

  it("an outage with nothing cached is an unavailable error, never a miss", async () => {
    const backend = scriptedBackend({ A: down() });
    const resolver = createResolver({ backend, retry: { attempts: 1 } });
    await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  describe("stale-if-error", () => {
    const setup = (staleIfErrorMs: number) => {
      const clock = fakeClock();
      const backend = scriptedBackend({ A: "v1" });
      const resolver = createResolver({
        backend,
        retry: { attempts: 1 },
        cache: { ttlMs: 1000, jitter: 0, refreshAhead: 0, staleIfErrorMs, staleRetryMs: 100, clock },
      });
      return { clock, backend, resolver };
    };

    it("serves the expired value, marked stale, only while the backend is unavailable and within the bound", async () => {
      const { clock, backend, resolver } = setup(5000);
      await resolver.resolve(ref("A"));
      backend.answers.set("A", down());
      clock.advance(1500);
      const stale = await resolver.resolve(ref("A"));
      expect(stale.reveal()).toBe("v1");
      expect(stale.stale).toBe(true);
      expect(resolver.stats().staleServed).toBe(1);
      clock.advance(4000); // 5500 past write: 4500 past TTL, still within 5000
      expect((await resolver.resolve(ref("A"))).stale).toBe(true);
      clock.advance(600); // 5100 past TTL
      await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    it("is off by default: an expired value is never served during an outage", async () => {
      const { clock, backend, resolver } = setup(0);
      await resolver.resolve(ref("A"));
      backend.answers.set("A", down());
      clock.advance(1001);
      await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    it.each([
      ["not found", () => new SecretNotFoundError("A"), SecretNotFoundError],
      ["denied", () => new AccessDeniedError("no"), AccessDeniedError],
      ["disabled", () => new SecretDisabledError("off"), SecretDisabledError],
    ])("never serves stale after %s", async (_, make, type) => {
      const { clock, backend, resolver } = setup(60_000);
      await resolver.resolve(ref("A"));
      backend.answers.set("A", make());
      clock.advance(1001);
      await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(type);
      clock.advance(10_001); // past the negative cache of a not-found
      backend.answers.set("A", down());
      await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(BackendUnavailableError);
    });

    it("recovers: once the backend answers again, fresh values replace the stale one", async () => {
      const { clock, backend, resolver } = setup(60_000);
      await resolver.resolve(ref("A"));
      backend.answers.set("A", down());
      clock.advance(1001);
      expect((await resolver.resolve(ref("A"))).stale).toBe(true);
      backend.answers.set("A", "v2");
      clock.advance(101);
      const fresh = await resolver.resolve(ref("A"));
      expect([fresh.reveal(), fresh.stale]).toEqual(["v2", false]);
    });
  });

  it("refresh-ahead: a hit near expiry refreshes in the background; no caller waits", async () => {
    const clock = fakeClock();
    let release: (v: string) => void = () => {};
    const backend = scriptedBackend({ A: "v1" });
    const resolver = createResolver({ backend, cache: { ttlMs: 1000, jitter: 0, refreshAhead: 0.2, clock } });
    await resolver.resolve(ref("A"));
    backend.answers.set("A", () => new Promise<string>((r) => (release = r)));
    clock.advance(850);
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("v1"); // starts the refresh
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("v1"); // answered while it runs
    expect(backend.calls).toHaveLength(2);
    release("v2");
    await flush();
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("v2");
    expect(resolver.stats().refreshes).toBe(1);
  });

  it("every resolve settles by timeoutMs, even when the backend hangs", async () => {
    const backend = scriptedBackend({ A: () => new Promise<string>(() => {}) });
    const resolver = createResolver({ backend, timeoutMs: 50 });
    const error = await resolver.resolve(ref("A")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/Timed out/);
  });

  it("passes an AbortSignal that aborts at the deadline to the backend", async () => {
    let seen: AbortSignal | undefined;
    const backend = scriptedBackend();
    // Waits on the signal's own "abort" event, not a fixed 10 ms (trust issue #20 point 9); a
    // signal that never aborts fails this test by its timeout.
    const aborted = new Promise<void>((resolve) => {
      backend.get = (_ref, options) => {
        seen = options?.signal;
        seen?.addEventListener("abort", () => resolve(), { once: true });
        return new Promise(() => {});
      };
    });
    const resolver = createResolver({ backend, timeoutMs: 30 });
    await resolver.resolve(ref("A")).catch(() => {});
    await aborted;
    expect(seen?.aborted).toBe(true);
  });

  it("retries unavailable errors only, bounded in count", async () => {
    let attempts = 0;
    const backend = scriptedBackend({
      A: async () => {
        attempts++;
        throw down();
      },
    });
    const resolver = createResolver({ backend, retry: { attempts: 3, baseDelayMs: 1 } });
    await expect(resolver.resolve(ref("A"))).rejects.toBeInstanceOf(BackendUnavailableError);
    expect(attempts).toBe(3);
    const denied = scriptedBackend({ A: new AccessDeniedError("no") });
    await expect(createResolver({ backend: denied }).resolve(ref("A"))).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    expect(denied.calls).toHaveLength(1);
  });

  it("invalidate drops the entry so the next resolve reads the backend", async () => {
    const backend = scriptedBackend({ A: "v1" });
    const resolver = createResolver({ backend });
    await resolver.resolve(ref("A"));
    backend.answers.set("A", "v2");
    resolver.invalidate(ref("A"));
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("v2");
  });

  it("rejects invalid references before any backend call", async () => {
    const backend = scriptedBackend({ A: "a" });
    const resolver = createResolver({ backend });
    for (const bad of [
      { namespace: "../x", key: "A" },
      { namespace: "a", key: "A/B" },
      { namespace: "a", key: "A", tenant: "X" },
    ]) {
      await expect(resolver.resolve(bad)).rejects.toBeInstanceOf(InvalidReferenceError);
    }
    expect(backend.calls).toHaveLength(0);
    expect(resolver.stats().errors.INVALID_REFERENCE).toBe(3);
  });

  it("batches misses of one tick into a single getMany when the backend has one", async () => {
    const backend = scriptedBackend({ A: "a", B: "b" }, { batch: true });
    const resolver = createResolver({ backend });
    const refs = [ref("A"), ref("B"), ref("C")];
    const result = await resolver.resolveMany(refs);
    expect(backend.batchCalls).toHaveLength(1);
    expect(result.get(refs[0] as never)?.toString()).toBe("******");
    expect(result.get(refs[2] as never)).toBeInstanceOf(SecretNotFoundError);
    expect(resolver.stats().backendCalls).toBe(1);
  });

  it("registers every resolved value with its redactor", async () => {
    const resolver = createResolver({ backend: scriptedBackend({ A: "super-secret-value" }) });
    await resolver.resolve(ref("A"));
    expect(resolver.redactor.redact("token=super-secret-value;")).toBe("token=******;");
  });

  it("redacts errors before they escape", async () => {
    const resolver = createResolver({
      backend: scriptedBackend({
        A: "super-secret-value",
        B: new BackendUnavailableError("echo super-secret-value"),
      }),
      retry: { attempts: 1 },
    });
    await resolver.resolve(ref("A"));
    const error = await resolver.resolve(ref("B")).catch((e: Error) => e);
    expect(String(error)).not.toContain("super-secret-value");
  });
});

describe("resolver: the memo of a ref's last hit (calls without options)", () => {
  it("answers again from the entry while it is cached, and never after it left", async () => {
    const backend = scriptedBackend({ A: "a1", B: "b" });
    const resolver = createResolver({ backend, cache: { maxEntries: 1 } });
    for (let i = 0; i < 3; i++) expect((await resolver.resolve(ref("A"))).reveal()).toBe("a1");
    expect(resolver.stats()).toMatchObject({ hits: 2, backendCalls: 1 });
    backend.answers.set("A", "a2");
    resolver.invalidate(ref("A"));
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("a2");
    await resolver.resolve(ref("B")); // evicts A (one entry only)
    backend.answers.set("A", "a3");
    expect((await resolver.resolve(ref("A"))).reveal()).toBe("a3");
    expect(backend.calls).toEqual(["A", "A", "B", "A"]);
  });

  it("memoizes a cached not-found until the negative TTL ends", async () => {
    const clock = fakeClock();
    const backend = scriptedBackend({});
    const resolver = createResolver({ backend, cache: { negativeTtlMs: 100, clock } });
    for (let i = 0; i < 3; i++)
      await expect(resolver.resolve(ref("X"))).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(resolver.stats()).toMatchObject({ negativeHits: 2, errors: { NOT_FOUND: 3 } });
    backend.answers.set("X", "now-here");
    clock.advance(101);
    expect((await resolver.resolve(ref("X"))).reveal()).toBe("now-here");
  });

  it("still validates every ref: an invalid one is an invalid-reference error", async () => {
    const resolver = createResolver({ backend: scriptedBackend({}) });
    for (let i = 0; i < 2; i++)
      await expect(resolver.resolve({ namespace: "bad ns", key: "K" })).rejects.toBeInstanceOf(
        InvalidReferenceError,
      );
  });
});

describe("sub-keys (Kestra semantics)", () => {
  const resolver = createResolver({
    backend: scriptedBackend({
      DB: '{"user":"admin","port":5432,"ratio":1.0,"big":123456789012345678901234567890,"nested":{"a": [1, 2]},"flag":true,"none":null}',
      PLAIN: "not json",
      LIST: "[1,2]",
    }),
  });
  const sub = (key: string, subkey: string) => resolver.resolve(ref(key), { subkey }).then((v) => v.reveal());

  it("a string gives its text; scalars their JSON source text unchanged; objects compact JSON", async () => {
    expect(await sub("DB", "user")).toBe("admin");
    expect(await sub("DB", "port")).toBe("5432");
    expect(await sub("DB", "ratio")).toBe("1.0");
    expect(await sub("DB", "big")).toBe("123456789012345678901234567890");
    expect(await sub("DB", "nested")).toBe('{"a":[1,2]}');
    expect(await sub("DB", "flag")).toBe("true");
    expect(await sub("DB", "none")).toBe("null");
  });

  it("a missing sub-key has Kestra's message", async () => {
    const error = await sub("DB", "pass").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SubkeyNotFoundError);
    expect((error as Error).message).toBe("Cannot find secret sub-key 'pass' in secret 'DB'.");
  });

  it("a value that is not a JSON object has Kestra's message", async () => {
    for (const key of ["PLAIN", "LIST"]) {
      const error = await sub(key, "x").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidSecretValueError);
      expect((error as Error).message).toBe(
        `Failed to read secret sub-key 'x' from secret '${key}'. Ensure the secret contains valid JSON value.`,
      );
    }
  });
});
