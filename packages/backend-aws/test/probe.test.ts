// probeVersion with a scripted client (issue #15): DescribeSecret only, AWSCURRENT's VersionId,
// and the same error mapping as get (a denial or a throttle never reads as not found).
import { type SecretsManagerClient, SecretsManagerServiceException } from "@aws-sdk/client-secrets-manager";
import { AccessDeniedError, BackendUnavailableError, SecretNotFoundError } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { createAwsBackend } from "../src/index.js";

const ref = { namespace: "team", key: "K" };
const failure = (name: string, status: number) =>
  new SecretsManagerServiceException({
    name,
    $fault: "client",
    $metadata: { httpStatusCode: status },
    message: name,
  });

function answering(answer: () => unknown) {
  const operations: string[] = [];
  const client = {
    async send(command: { constructor: { name: string } }) {
      operations.push(command.constructor.name.replace(/Command$/, ""));
      const result = answer();
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as SecretsManagerClient;
  return { operations, backend: createAwsBackend({ client, prefix: "kw" }) };
}

describe("aws probeVersion", () => {
  it("is the VersionId that holds AWSCURRENT, from DescribeSecret alone", async () => {
    const { backend, operations } = answering(() => ({
      VersionIdsToStages: {
        "old-id": ["AWSPREVIOUS"],
        "current-id": ["AWSCURRENT"],
        "next-id": ["AWSPENDING"],
      },
    }));
    expect(await backend.probeVersion?.(ref)).toBe("current-id");
    expect(operations).toEqual(["DescribeSecret"]);
  });

  it("no AWSCURRENT, or scheduled for deletion, is not found (as get says)", async () => {
    for (const answer of [
      { VersionIdsToStages: {} },
      { DeletedDate: new Date(), VersionIdsToStages: { a: ["AWSCURRENT"] } },
    ]) {
      const { backend } = answering(() => answer);
      await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(SecretNotFoundError);
    }
  });

  it.each([
    ["ResourceNotFoundException", 400, SecretNotFoundError],
    ["AccessDeniedException", 400, AccessDeniedError],
    ["ThrottlingException", 400, BackendUnavailableError],
    ["InternalServiceError", 500, BackendUnavailableError],
  ])("%s is %o", async (name, status, type) => {
    const { backend } = answering(() => failure(name, status));
    await expect(backend.probeVersion?.(ref)).rejects.toBeInstanceOf(type);
  });
});
