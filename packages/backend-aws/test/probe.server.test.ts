// probeVersion on moto (issue #15): one DescribeSecret, never GetSecretValue; the VersionId that
// holds AWSCURRENT (what get reads), so a rotation that stages AWSPENDING first changes nothing
// until the stage moves; a secret in its recovery window is not found, as get says.
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from "@aws-sdk/client-secrets-manager";
import { type SecretBackend, SecretNotFoundError, type SecretRef } from "@keyway/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend, secretName } from "../src/index.js";
import { countingClient, moto, options, run } from "./moto.js";

describe.skipIf(!moto)("aws probeVersion on moto", () => {
  let backend: SecretBackend;
  let raw: ReturnType<typeof countingClient>;
  const ref = (key: string): SecretRef => ({ namespace: `probe.r${run}`, key });
  beforeAll(() => {
    raw = countingClient();
    backend = createAwsBackend(options({ client: raw.client }));
  });
  afterAll(() => raw.client.destroy());

  it("is one DescribeSecret, and the VersionId get reads", async () => {
    const target = ref("ONE_CALL");
    await backend.put?.(target, "probe-value-1");
    raw.calls.length = 0;
    const version = await backend.probeVersion?.(target);
    expect(raw.calls).toEqual(["DescribeSecret"]);
    expect(version).toBe((await backend.get(target)).metadata.version);
  });

  it("follows AWSCURRENT: a version staged AWSPENDING is no change until it is promoted", async () => {
    const target = ref("STAGED");
    await backend.put?.(target, "staged-value-1");
    const before = await backend.probeVersion?.(target);
    const id = secretName(`kw-${run}`, target);
    const pending = await raw.client.send(
      new PutSecretValueCommand({
        SecretId: id,
        SecretString: "staged-value-2",
        VersionStages: ["AWSPENDING"],
      }),
    );
    expect(await backend.probeVersion?.(target)).toBe(before);
    expect((await backend.get(target)).reveal()).toBe("staged-value-1");
    await raw.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: id,
        VersionStage: "AWSCURRENT",
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: before,
      }),
    );
    expect(await backend.probeVersion?.(target)).toBe(pending.VersionId);
    // Asked by stage: moto 5.2.5's UpdateSecretVersionStage leaves the version a stage-less
    // GetSecretValue reads where it was (its default_version_id); AWS reads AWSCURRENT.
    expect((await backend.get(target, { version: "AWSCURRENT" })).reveal()).toBe("staged-value-2");
  });

  it("a secret in its recovery window is not found, as get says", async () => {
    const target = ref("WINDOW");
    await backend.put?.(target, "window-value");
    await backend.delete?.(target);
    await expect(backend.probeVersion?.(target)).rejects.toBeInstanceOf(SecretNotFoundError);
    await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("works in read-only tags mode (the lookup, then DescribeSecret)", async () => {
    const target = ref("TAGGED");
    await backend.put?.(target, "tagged-value");
    const tagged = createAwsBackend(
      options({ client: raw.client, readOnly: { match: "tags", tags: { "keyway:prefix": `kw-${run}` } } }),
    );
    raw.calls.length = 0;
    expect(await tagged.probeVersion?.(target)).toBe(await backend.probeVersion?.(target));
    expect(raw.calls.filter((c) => c === "GetSecretValue")).toEqual([]);
  });
});
