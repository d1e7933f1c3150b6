// probeVersion on the emulator (issue #15): one getSecretVersion('latest'), the payload never
// accessed; the version get reads, with its create time, so a secret deleted and created again
// (numbering starts over at 1) is a new version; a disabled latest version is never a version.
import { type SecretBackend, SecretDisabledError, SecretNotFoundError, type SecretRef } from "@keyway/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcpBackend, encodeSecretId, type GcpSecretManagerClient } from "../src/index.js";
import { adminClient, countingClient, endpoint, randomPrefix, randomProject } from "./emulator.js";

describe.skipIf(!endpoint)("gcp probeVersion on the emulator", () => {
  const project = randomProject();
  const prefix = randomPrefix();
  const admin = adminClient();
  const calls: string[] = [];
  // The SDK client the backend uses, counting the methods it calls.
  const counting = countingClient(admin, calls) as unknown as GcpSecretManagerClient;
  let backend: SecretBackend;
  let n = 0;
  const ref = (): SecretRef => ({ namespace: "team.app", key: `P${n++}` });
  const secretPath = (r: SecretRef) => `projects/${project}/secrets/${encodeSecretId(prefix, r)}`;

  beforeAll(() => {
    backend = createGcpBackend({ project, prefix, client: counting });
  });
  afterAll(() => admin.close());

  it("is one getSecretVersion; its number is the version get reads", async () => {
    const r = ref();
    await backend.put?.(r, "probe-one");
    await backend.put?.(r, "probe-two");
    calls.length = 0;
    const version = await backend.probeVersion?.(r);
    expect(calls).toEqual(["getSecretVersion"]);
    expect(version?.split("@")[0]).toBe((await backend.get(r)).metadata.version);
    expect(version).not.toContain("probe-");
  });

  it("a secret deleted and created again starts over at 1, and is still a new version", async () => {
    const r = ref();
    await backend.put?.(r, "first-life");
    const first = await backend.probeVersion?.(r);
    await backend.delete?.(r);
    await expect(backend.probeVersion?.(r)).rejects.toBeInstanceOf(SecretNotFoundError);
    await backend.put?.(r, "second-life");
    const second = await backend.probeVersion?.(r);
    expect([first?.split("@")[0], second?.split("@")[0]]).toEqual(["1", "1"]);
    expect(second).not.toBe(first);
  });

  it("a disabled latest version is never a version (emulator: the previous one or not found; Google: disabled)", async () => {
    const r = ref();
    await backend.put?.(r, "only");
    await admin.disableSecretVersion({ name: `${secretPath(r)}/versions/1` });
    const error = await backend.probeVersion?.(r).catch((e: unknown) => e);
    // Emulator v1.7.1 resolves `latest` to the newest ENABLED version (none here); Google resolves
    // it to the newest version, which probeVersion reports as disabled. get says the same.
    expect([SecretNotFoundError, SecretDisabledError].some((type) => error instanceof type)).toBe(true);
    const read = await backend.get(r).catch((e: unknown) => e);
    expect(read).toBeInstanceOf((error as object).constructor as new () => unknown);
  });
});
