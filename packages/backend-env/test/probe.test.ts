// The env backend's version (issue #15): env changes only when read again, and a probe is that
// re-read. The version is a count of changes, never a digest of the value.
import diagnostics from "node:diagnostics_channel";
import { printedForms } from "@keyway/backend-test-suite";
import { ConfigurationError, createRouter, SecretNotFoundError, type VersionChange } from "@keyway/core";
import { CHANNELS } from "@keyway/core/otel";
import { describe, expect, it } from "vitest";
import { createEnvBackend } from "../src/index.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const ref = { namespace: "any.where", key: "api_token" };

describe("env backend: probeVersion", () => {
  it("re-reads the variable: a changed text is a new version, and get serves it from then on", async () => {
    const env: Record<string, string | undefined> = { SECRET_API_TOKEN: b64("token-one") };
    const backend = createEnvBackend({ env });
    expect(await backend.probeVersion?.(ref)).toBe("1");
    env.SECRET_API_TOKEN = b64("token-two");
    // Not read again yet: get still serves what was read at creation.
    expect((await backend.get(ref)).reveal()).toBe("token-one");
    expect(await backend.probeVersion?.(ref)).toBe("2");
    expect((await backend.get(ref)).reveal()).toBe("token-two");
    expect(await backend.probeVersion?.(ref)).toBe("2");
    expect(backend.variables().map((v) => v.raw)).toEqual([b64("token-two")]);
    for (const version of ["1", "2"]) expect(version).not.toContain(b64("token-two"));
  });

  it("a variable removed is not found (probe and get), and set again is another version", async () => {
    const env: Record<string, string | undefined> = { SECRET_API_TOKEN: b64("t1") };
    const backend = createEnvBackend({ env });
    expect(await backend.probeVersion?.(ref)).toBe("1");
    delete env.SECRET_API_TOKEN;
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    env.SECRET_API_TOKEN = b64("t1");
    expect(await backend.probeVersion?.(ref)).toBe("3");
    expect((await backend.get(ref)).reveal()).toBe("t1");
  });

  it("a key set twice (case) is ambiguous, as get says; the error prints no value", async () => {
    const env: Record<string, string | undefined> = { SECRET_API_TOKEN: b64("one-value") };
    const backend = createEnvBackend({ env });
    env.SECRET_api_token = b64("two-value");
    const error = await backend.probeVersion?.(ref).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(printedForms(error)).not.toMatch(/one-value|two-value|b25lLXZhbHVl/);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(ConfigurationError);
  });

  it("router.watch over env sees a re-read change once, and the next resolve has the new value", async () => {
    const env: Record<string, string | undefined> = { SECRET_API_TOKEN: b64("watch-one") };
    const router = createRouter({
      backends: { env: createEnvBackend({ env }) },
      rules: [{ match: "", backend: "env" }],
    });
    try {
      expect((await router.resolve(ref)).reveal()).toBe("watch-one");
      // The first probe's answer is the baseline: the change comes after it.
      const probed = new Promise<void>((resolve) => {
        const onBackend = (message: unknown) => {
          if ((message as { operation: string }).operation !== "probeVersion") return;
          diagnostics.unsubscribe(CHANNELS.backend, onBackend);
          resolve();
        };
        diagnostics.subscribe(CHANNELS.backend, onBackend);
      });
      const changes: VersionChange[] = [];
      const changed = new Promise<void>((resolve) => {
        router.watch(
          ref,
          (change) => {
            changes.push(change);
            resolve();
          },
          { intervalMs: 1 },
        );
      });
      await probed;
      env.SECRET_API_TOKEN = b64("watch-two");
      await changed;
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ version: "2", previousVersion: "1", foundIn: "" });
      expect((await router.resolve(ref)).reveal()).toBe("watch-two");
    } finally {
      await router.close();
    }
  });
});
