// probeVersion on OpenBao (issue #15): KV v2 reads the metadata path only, a soft-deleted
// current version is SecretDisabledError as get says, undeleting brings the same version back;
// KV v1 has no versions, so no probeVersion: router.watch reads the value and compares it in
// memory, and still sees exactly one change per rotation.
import { createRouter, SecretDisabledError, type SecretRef, type VersionChange } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { createVaultBackend } from "../src/index.js";
import { enable, endpoint, rootToken, runPrefix, server, sys } from "./helpers.js";

const auth = { method: "token" as const, token: rootToken };
const ref: SecretRef = { namespace: "p", key: "K" };

describe.skipIf(!server)("vault probeVersion on OpenBao", () => {
  it("KV v2: a soft-deleted current version is SecretDisabledError; undeleted, the same version again", async () => {
    const prefix = runPrefix("probe-soft");
    const backend = createVaultBackend({ endpoint, auth, prefix });
    await backend.put?.(ref, "soft-one");
    const first = await backend.probeVersion?.(ref);
    expect(first).toMatch(/^1@/);
    await backend.put?.(ref, "soft-two");
    const second = await backend.probeVersion?.(ref);
    expect(second).toMatch(/^2@/);
    await sys("DELETE", `secret/data/${prefix}/_/p/K`);
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretDisabledError);
    await sys("POST", `secret/undelete/${prefix}/_/p/K`, { versions: [2] });
    expect(await backend.probeVersion?.(ref)).toBe(second);
    expect((await backend.get(ref)).reveal()).toBe("soft-two");
  });

  it("KV v1: no probeVersion; router.watch compares the values it reads and sees one change", async () => {
    await enable("mounts", "kv1", { type: "kv", options: { version: "1" } });
    const backend = createVaultBackend({
      endpoint,
      auth,
      mount: "kv1",
      kvVersion: 1,
      prefix: runPrefix("probe-v1"),
    });
    expect(backend.probeVersion).toBeUndefined();
    await backend.put?.(ref, "kv1-value-one");
    const router = createRouter({ backends: { v1: backend }, rules: [{ match: "", backend: "v1" }] });
    const changes: VersionChange[] = [];
    let reads = 0;
    const waiters: Array<() => void> = [];
    const tick = () => {
      for (const wake of waiters.splice(0)) wake();
    };
    const until = async (test: () => boolean) => {
      while (!test()) await new Promise<void>((r) => waiters.push(r));
    };
    const counted = backend.get.bind(backend);
    backend.get = async (r, o) => {
      reads++;
      tick();
      return counted(r, o);
    };
    try {
      router.watch(
        ref,
        (change) => {
          changes.push(change);
          tick();
        },
        { intervalMs: 5 },
      );
      await until(() => reads >= 2);
      await backend.put?.(ref, "kv1-value-two");
      await until(() => changes.length === 1);
      const seen = reads;
      await until(() => reads >= seen + 3);
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ previousVersion: "1", version: "2" });
      expect((await router.resolve(ref)).reveal()).toBe("kv1-value-two");
    } finally {
      await router.close();
    }
  });
});
