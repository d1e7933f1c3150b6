// probeVersion with a fabricated client (issue #15): what the emulator cannot show. Google's
// `latest` may name a disabled version (the emulator skips it), and every failure is mapped as
// get's are: not found, denied and unavailable stay apart, and an abort is unavailable.
import {
  AccessDeniedError,
  BackendUnavailableError,
  SecretDisabledError,
  SecretNotFoundError,
} from "@keyway/core";
import { describe, expect, it } from "vitest";
import { createGcpBackend, type GcpSecretManagerClient } from "../src/index.js";

const ref = { namespace: "team", key: "API_TOKEN" };

function backendAnswering(answer: () => unknown) {
  const calls: Array<{ method: string; request: unknown }> = [];
  const client = new Proxy({} as GcpSecretManagerClient, {
    // Not a thenable: `await client` must give the client itself.
    get: (_, method) =>
      method === "then"
        ? undefined
        : async (request: unknown) => {
            calls.push({ method: String(method), request });
            const result = answer();
            if (result instanceof Error) throw result;
            return result;
          },
  });
  return { calls, backend: createGcpBackend({ project: "p", prefix: "kw", client }) };
}
const grpcError = (code: number) => Object.assign(new Error(`${code} STATUS: details`), { code });

describe("gcp probeVersion", () => {
  it("asks getSecretVersion for latest and answers <number>@<create time>", async () => {
    const { backend, calls } = backendAnswering(() => [
      {
        name: "projects/p/secrets/kw_nteam_kAPI__TOKEN/versions/7",
        state: "ENABLED",
        createTime: { seconds: "1764720000", nanos: 5 },
      },
    ]);
    expect(await backend.probeVersion?.(ref)).toBe("7@1764720000.000000005");
    expect(calls.map((c) => c.method)).toEqual(["getSecretVersion"]);
    expect(calls[0]?.request).toEqual({ name: expect.stringMatching(/\/versions\/latest$/) });
  });

  it("a latest version that is disabled or destroyed is SecretDisabledError", async () => {
    for (const state of ["DISABLED", "DESTROYED"]) {
      const { backend } = backendAnswering(() => [{ name: "projects/p/secrets/s/versions/2", state }]);
      await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    }
  });

  it.each([
    [5, SecretNotFoundError],
    [7, AccessDeniedError],
    [16, AccessDeniedError],
    [14, BackendUnavailableError],
    [4, BackendUnavailableError],
  ])("gRPC status %i is %o", async (code, type) => {
    const { backend } = backendAnswering(() => grpcError(code));
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(type);
  });

  it("an answer without a version name is unavailable, never a version", async () => {
    const { backend } = backendAnswering(() => [{ state: "ENABLED" }]);
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
  });

  it("an aborted signal is unavailable, before any call", async () => {
    const { backend, calls } = backendAnswering(() => [{ name: "x/versions/1" }]);
    const controller = new AbortController();
    controller.abort();
    await expect(backend.probeVersion?.(ref, { signal: controller.signal })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    expect(calls).toEqual([]);
  });
});
