// Paths moto cannot be made to take (a write failing half way, a batch answer missing an id, a
// whole batch throttled), with a scripted client injected in place of the SDK's. The server
// suites cover the normal paths against moto.
import {
  InvalidRequestException,
  ResourceExistsException,
  type SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { BackendUnavailableError, SecretNotFoundError, type SecretValue } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { createAwsBackend } from "../src/index.js";

type Answer = (input: Record<string, unknown>) => unknown;
const meta = { httpStatusCode: 400 };
const throttled = () =>
  new SecretsManagerServiceException({
    name: "ThrottlingException",
    $fault: "client",
    $metadata: meta,
    message: "slow down",
  });

/** A client whose `send` answers per operation from `script`, recording each call. */
function scripted(script: Record<string, Answer>) {
  const calls: Array<{ operation: string; input: Record<string, unknown> }> = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const operation = command.constructor.name.replace(/Command$/, "");
      calls.push({ operation, input: command.input });
      const answer = script[operation];
      if (!answer) throw new Error(`unexpected ${operation}`);
      const result = answer(command.input);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as SecretsManagerClient;
  return { client, calls, backend: createAwsBackend({ client, prefix: "kw" }) };
}

describe("put", () => {
  it("restores a name pending deletion, and deletes it again when the new value cannot be written", async () => {
    const { backend, calls } = scripted({
      CreateSecret: () =>
        new InvalidRequestException({
          $metadata: meta,
          message:
            "You can't create this secret because a secret with this name is already scheduled for deletion.",
        }),
      DescribeSecret: () => ({ Name: "kw/_/K", DeletedDate: new Date() }),
      RestoreSecret: () => ({}),
      PutSecretValue: throttled,
      DeleteSecret: () => ({}),
    });
    const error = await backend.put?.({ namespace: "", key: "K" }, "new value").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(calls.map((c) => c.operation)).toEqual([
      "CreateSecret",
      "DescribeSecret",
      "RestoreSecret",
      "PutSecretValue",
      "DeleteSecret",
    ]);
    expect(calls.at(-1)?.input).toEqual({ SecretId: "kw/_/K", RecoveryWindowInDays: 7 });
  });

  it("updates an existing secret in the documented order, skipping what is already right", async () => {
    const { backend, calls } = scripted({
      CreateSecret: () => new ResourceExistsException({ $metadata: meta, message: "exists" }),
      DescribeSecret: () => ({
        Name: "kw/_/a/K",
        Description: "old",
        Tags: [
          { Key: "keyway:prefix", Value: "kw" },
          { Key: "keyway:namespace", Value: "a" },
          { Key: "keyway:key", Value: "K" },
          { Key: "stale", Value: "1" },
          { Key: "same", Value: "2" },
        ],
      }),
      PutSecretValue: () => ({}),
      UpdateSecret: () => ({}),
      TagResource: () => ({}),
      UntagResource: () => ({}),
    });
    await backend.put?.({ namespace: "a", key: "K" }, "v", {
      description: "new",
      tags: { same: "2", added: "3" },
    });
    expect(calls.map((c) => c.operation)).toEqual([
      "CreateSecret",
      "DescribeSecret",
      "PutSecretValue",
      "UpdateSecret",
      "TagResource",
      "UntagResource",
    ]);
    expect(calls[4]?.input.Tags).toEqual([{ Key: "added", Value: "3" }]);
    expect(calls[5]?.input.TagKeys).toEqual(["stale"]);
  });
});

describe("getMany", () => {
  it("a throttled chunk fails its own refs only; an id missing from the answer is read alone", async () => {
    const { backend, calls } = scripted({
      BatchGetSecretValue: (input) => {
        const ids = input.SecretIdList as string[];
        if (ids.includes("kw/_/K00")) return throttled();
        // Answers all but the last id of the second chunk.
        return {
          SecretValues: ids.slice(0, -1).map((Name) => ({ Name, SecretString: `v:${Name}` })),
          Errors: [],
        };
      },
      GetSecretValue: (input) => ({ Name: input.SecretId, SecretString: "alone" }),
    });
    const refs = Array.from({ length: 25 }, (_, i) => ({
      namespace: "",
      key: `K${String(i).padStart(2, "0")}`,
    }));
    const result = (await backend.getMany?.(refs)) ?? new Map();
    for (const ref of refs.slice(0, 20)) expect(result.get(ref)).toBeInstanceOf(BackendUnavailableError);
    for (const ref of refs.slice(20, 24))
      expect((result.get(ref) as SecretValue).reveal()).toBe(`v:kw/_/${ref.key}`);
    expect((result.get(refs[24] as never) as SecretValue).reveal()).toBe("alone");
    expect(calls.filter((c) => c.operation === "GetSecretValue")).toHaveLength(1);
  });

  it("Errors[] entries are kept apart per ref; the same ref object twice is one id", async () => {
    const { backend, calls } = scripted({
      BatchGetSecretValue: (input) => ({
        SecretValues: [{ Name: "kw/_/A", SecretString: "a" }],
        Errors: (input.SecretIdList as string[])
          .filter((id) => id !== "kw/_/A")
          .map((SecretId) => ({ SecretId, ErrorCode: "ResourceNotFoundException", Message: "no" })),
      }),
    });
    const a = { namespace: "", key: "A" };
    const aAgain = { namespace: "", key: "A" };
    const b = { namespace: "", key: "B" };
    const result = (await backend.getMany?.([a, aAgain, b])) ?? new Map();
    expect([...((calls[0]?.input.SecretIdList as string[] | undefined) ?? [])].sort()).toEqual([
      "kw/_/A",
      "kw/_/B",
    ]);
    expect((result.get(a) as SecretValue).reveal()).toBe("a");
    expect((result.get(aAgain) as SecretValue).reveal()).toBe("a");
    expect(result.get(b)).toBeInstanceOf(SecretNotFoundError);
    expect((result.get(b) as Error).message).toBe("Cannot find secret for key 'B'.");
  });
});
