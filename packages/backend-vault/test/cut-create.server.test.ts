// A KV v2 put cut off between its two requests. A plain put writes the custom metadata first and
// the value (the version) last, so a create cut off in between leaves a metadata-only path. Every
// read must take that path as not found, and the next put must complete it, metadata included.
// The cut is simulated by writing only the metadata through the HTTP API, as the first request
// of a put would.
import { SecretNotFoundError } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { CheckAndSetConflictError, createVaultBackend } from "../src/index.js";
import { endpoint, rootToken, runPrefix, server, sys } from "./helpers.js";

const make = (prefix: string) =>
  createVaultBackend({ endpoint, auth: { method: "token", token: rootToken }, prefix });

/** What the first request of a cut-off put leaves: custom metadata and no version. */
const orphan = (prefix: string, key: string) =>
  sys("POST", `secret/metadata/${prefix}/_/cut/${key}`, {
    custom_metadata: { description: `about ${key}`, "tag:owner": "ops" },
  });

type Metadata = { data: { current_version: number; custom_metadata: Record<string, string> | null } };

describe.skipIf(!server)("vault: a create cut off between its metadata and its value", () => {
  it("get, getMany and list take a metadata-only path as not found", async () => {
    const prefix = runPrefix("cut");
    const backend = make(prefix);
    await backend.put?.({ namespace: "cut", key: "DONE" }, "done", { description: "about DONE" });
    await orphan(prefix, "HALF");

    await expect(backend.get({ namespace: "cut", key: "HALF" })).rejects.toBeInstanceOf(SecretNotFoundError);
    const refs = [
      { namespace: "cut", key: "DONE" },
      { namespace: "cut", key: "HALF" },
    ];
    const many = (await backend.getMany?.(refs)) ?? new Map();
    expect(many.get(refs[0])).not.toBeInstanceOf(Error);
    expect(many.get(refs[1])).toBeInstanceOf(SecretNotFoundError);
    const listed = (await backend.list?.("cut")) ?? [];
    expect(listed.map((l) => l.key)).toEqual(["DONE"]);
    expect(listed[0]?.metadata.description).toBe("about DONE");
  });

  it("a later put completes the path with its value and metadata at version 1", async () => {
    const prefix = runPrefix("cut");
    const backend = make(prefix);
    await orphan(prefix, "HALF");
    const ref = { namespace: "cut", key: "HALF" };
    await backend.put?.(ref, "whole", { description: "about HALF", tags: { owner: "ops" } });
    const value = await backend.get(ref);
    expect(value.reveal()).toBe("whole");
    expect(value.metadata).toMatchObject({ description: "about HALF", tags: { owner: "ops" }, version: "1" });
    const listed = (await backend.list?.("cut")) ?? [];
    expect(listed.map((l) => [l.key, l.metadata.description, l.metadata.tags])).toEqual([
      ["HALF", "about HALF", { owner: "ops" }],
    ]);
  });

  it("a put writes the metadata before the value: a refused value write leaves no version", async () => {
    const prefix = runPrefix("cut");
    // A token that may write metadata but not data: the put stops after its first request.
    await sys("POST", "sys/policies/acl/keyway-cut-metadata-only", {
      policy: `path "secret/metadata/${prefix}/*" { capabilities = ["create", "read", "update", "list"] }`,
    });
    const { auth } = await sys<{ auth: { client_token: string } }>("POST", "auth/token/create", {
      policies: ["keyway-cut-metadata-only"],
      ttl: "5m",
    });
    const limited = createVaultBackend({
      endpoint,
      auth: { method: "token", token: auth.client_token },
      prefix,
    });
    const ref = { namespace: "cut", key: "NEW" };
    await expect(limited.put?.(ref, "v", { description: "about NEW" })).rejects.toThrow(/denied write/);
    const meta = await sys<Metadata>("GET", `secret/metadata/${prefix}/_/cut/NEW`);
    expect(meta.data.current_version).toBe(0);
    expect(meta.data.custom_metadata).toEqual({ description: "about NEW" });
    const backend = make(prefix);
    await expect(backend.get(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    expect(await backend.list?.("cut")).toEqual([]);
  });

  it("putWithCas(0) creates over a metadata-only path; a conflicting putWithCas changes nothing", async () => {
    const prefix = runPrefix("cut");
    const backend = make(prefix);
    await orphan(prefix, "CAS");
    const ref = { namespace: "cut", key: "CAS" };
    await backend.putWithCas(ref, "first", 0, { description: "first" });
    expect((await backend.get(ref)).metadata).toMatchObject({ description: "first", version: "1" });
    await expect(backend.putWithCas(ref, "again", 0, { description: "again" })).rejects.toBeInstanceOf(
      CheckAndSetConflictError,
    );
    const value = await backend.get(ref);
    expect(value.reveal()).toBe("first");
    expect(value.metadata.description).toBe("first"); // the loser's metadata was never written
  });

  it("deleting a metadata-only path is SecretNotFoundError and removes the orphan metadata", async () => {
    const prefix = runPrefix("cut");
    const backend = make(prefix);
    await orphan(prefix, "GONE");
    await expect(backend.delete?.({ namespace: "cut", key: "GONE" })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    await expect(sys("GET", `secret/metadata/${prefix}/_/cut/GONE`)).rejects.toThrow(/404/);
    await expect(sys("LIST", `secret/metadata/${prefix}/_/cut/`)).rejects.toThrow(/404/);
  });
});
