// `timeoutMs`, the old name of `requestTimeoutMs` (issue 19 point 3): it keeps working, with one
// deprecation warning per process (its own file: the warning is once per module instance).
import { ConfigurationError } from "@keyway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { definition } from "../src/definition.js";
import { createGcpBackend, type GcpSecretManagerClient } from "../src/index.js";

afterEach(() => vi.restoreAllMocks());

describe("timeoutMs (deprecated)", () => {
  it("is read as requestTimeoutMs, from code and from keyway.yaml, warning once with a code", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    const timeouts: unknown[] = [];
    const client = {
      accessSecretVersion: async (_: unknown, options: { timeout?: number }) => {
        timeouts.push(options.timeout);
        return [{ name: "x/versions/1", payload: { data: Buffer.from("v") } }];
      },
    } as unknown as GcpSecretManagerClient;
    const backend = createGcpBackend({ project: "p", client, timeoutMs: 4321, readSecretMetadata: false });
    await backend.get({ namespace: "", key: "K" });
    expect(timeouts).toEqual([4321]);
    const parsed = definition.optionsSchema.safeParse({ project: "p", timeoutMs: 5000 });
    expect(parsed.success).toBe(true);
    if (parsed.success) definition.create(parsed.data, { name: "gcp", env: {} });
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[1]).toMatchObject({
      type: "DeprecationWarning",
      code: "KEYWAY_DEP_TIMEOUT_MS",
    });
    expect(String(warn.mock.calls[0]?.[0])).toContain("requestTimeoutMs");
  });

  it("given with requestTimeoutMs is a ConfigurationError (one option, two names)", () => {
    vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    expect(() => createGcpBackend({ project: "p", timeoutMs: 1, requestTimeoutMs: 2 })).toThrow(
      ConfigurationError,
    );
  });
});
