// Unit tests of the error mapping with fabricated SDK errors (the real classes of the SDK, built
// by hand). The server suite checks the same mapping against moto's real answers.
import {
  DecryptionFailure,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { printedForms } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  SecretDisabledError,
  SecretNotFoundError,
} from "@keyway/core";
import { describe, expect, it } from "vitest";
import { batchEntryError, isPendingDeletion, mapAwsError } from "../src/errors.js";

const SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz-keyway-unit";
const ACCESS_KEY = "AKIAKEYWAYUNITTEST01";
const ctx = { backend: "aws", key: "DB", secrets: [SECRET_KEY, ACCESS_KEY] };
const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: "r-1",
  attempts: 1,
  totalRetryDelay: 0,
});

/** An error of a code the SDK has no class for (it throws SecretsManagerServiceException named after it). */
function serviceError(
  name: string,
  status: number,
  message = `${name} happened`,
  fault: "client" | "server" = "client",
) {
  return new SecretsManagerServiceException({ name, $fault: fault, $metadata: meta(status), message });
}

describe("mapAwsError", () => {
  it("ResourceNotFoundException is SecretNotFoundError with Kestra's message", () => {
    const error = mapAwsError(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: meta(400),
      }),
      ctx,
    );
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toBe("Cannot find secret for key 'DB'.");
    expect(error.backend).toBe("aws");
  });

  it("a secret marked for deletion is not found (AWS's and moto's wording)", () => {
    for (const message of [
      "You can't perform this operation on the secret because it was marked for deletion.",
      "You tried to perform the operation on a secret that's currently marked deleted.",
      "You can't create this secret because a secret with this name is already scheduled for deletion.",
    ]) {
      const aws = new InvalidRequestException({ message, $metadata: meta(400) });
      expect(isPendingDeletion(aws)).toBe(true);
      expect(mapAwsError(aws, ctx)).toBeInstanceOf(SecretNotFoundError);
    }
  });

  it("any other InvalidRequestException is not a miss", () => {
    const aws = new InvalidRequestException({
      message: "You can't rotate a secret now.",
      $metadata: meta(400),
    });
    expect(isPendingDeletion(aws)).toBe(false);
    expect(mapAwsError(aws, ctx)).toBeInstanceOf(ConfigurationError);
    expect(mapAwsError(aws, { ...ctx, write: true })).toBeInstanceOf(InvalidSecretValueError);
  });

  it("without a key (list), not found cannot be claimed", () => {
    const aws = new ResourceNotFoundException({ message: "gone", $metadata: meta(400) });
    expect(mapAwsError(aws, { backend: "aws", secrets: [] })).not.toBeInstanceOf(SecretNotFoundError);
  });

  it("auth failures are AccessDeniedError, never not found", () => {
    for (const name of [
      "AccessDeniedException",
      "UnrecognizedClientException",
      "InvalidSignatureException",
      "ExpiredTokenException",
      "IncompleteSignature",
    ]) {
      expect(mapAwsError(serviceError(name, 400), ctx)).toBeInstanceOf(AccessDeniedError);
    }
    expect(mapAwsError(serviceError("SomethingNew", 403), ctx)).toBeInstanceOf(AccessDeniedError);
    // No credentials at all is a ConfigurationError (see "missing credentials" below).
    const providerError = Object.assign(new Error("Token is expired"), { name: "TokenProviderError" });
    expect(mapAwsError(providerError, ctx)).toBeInstanceOf(AccessDeniedError);
  });

  it("KMS: a disabled key is SecretDisabledError, a refused one AccessDeniedError", () => {
    const disabled = new DecryptionFailure({
      message: "The KMS key arn:aws:kms:... is disabled.",
      $metadata: meta(400),
    });
    expect(mapAwsError(disabled, ctx)).toBeInstanceOf(SecretDisabledError);
    const refused = new DecryptionFailure({ message: "Access to KMS is not allowed", $metadata: meta(400) });
    expect(mapAwsError(refused, ctx)).toBeInstanceOf(AccessDeniedError);
  });

  it("throttling, 5xx, timeouts, aborts and socket errors are BackendUnavailableError", () => {
    const unavailable = [
      serviceError("ThrottlingException", 400),
      serviceError("TooManyRequestsException", 429),
      new InternalServiceError({ message: "oops", $metadata: meta(500) }),
      serviceError("Unknown", 503, "Service Unavailable", "server"),
      Object.assign(new Error("timed out"), { name: "TimeoutError", code: "ETIMEDOUT" }),
      Object.assign(new Error("The operation was aborted"), { name: "AbortError" }),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }),
      new Error("something without any HTTP answer"),
    ];
    for (const error of unavailable) expect(mapAwsError(error, ctx)).toBeInstanceOf(BackendUnavailableError);
  });

  it("bad parameters: ConfigurationError on reads, InvalidSecretValueError on writes", () => {
    const aws = new InvalidParameterException({ message: "bad", $metadata: meta(400) });
    expect(mapAwsError(aws, ctx)).toBeInstanceOf(ConfigurationError);
    expect(mapAwsError(aws, { ...ctx, write: true })).toBeInstanceOf(InvalidSecretValueError);
  });

  it("a missing region is a ConfigurationError that says what to set", () => {
    const error = mapAwsError(new Error("Region is missing"), ctx);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/AWS_REGION/);
  });

  it("no credential survives in the thrown error: message, cause, stack, JSON, inspect", () => {
    // An error stuffed the way SDK errors can be: the secret in the message, request options
    // and headers hanging off it.
    const aws = Object.assign(
      serviceError(
        "InvalidSignatureException",
        400,
        `The request signature we calculated does not match. secretAccessKey=${SECRET_KEY} Credential=${ACCESS_KEY}/20260101/us-east-1`,
      ),
      {
        $response: {
          headers: { authorization: `AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/x, Signature=abc` },
        },
        config: { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } },
      },
    );
    const error = mapAwsError(aws, ctx);
    expect(error).toBeInstanceOf(AccessDeniedError);
    const printed = printedForms(error);
    expect(printed).not.toContain(SECRET_KEY);
    expect(printed).not.toContain(ACCESS_KEY);
    expect(printed).toContain("InvalidSignatureException");
  });

  it("an error name or code holding a credential is not echoed (core scrubs only messages)", () => {
    const odd = mapAwsError(Object.assign(new Error("x"), { name: `evil ${SECRET_KEY}` }), ctx);
    expect(printedForms(odd)).not.toContain(SECRET_KEY);
    const wordy = mapAwsError(Object.assign(new Error("x"), { name: ACCESS_KEY, code: ACCESS_KEY }), ctx);
    expect(printedForms(wordy)).not.toContain(ACCESS_KEY);
  });
});

describe("batchEntryError", () => {
  it("maps BatchGetSecretValue Errors[] entries like single reads", () => {
    expect(
      batchEntryError({ ErrorCode: "ResourceNotFoundException", Message: "not here" }, ctx),
    ).toBeInstanceOf(SecretNotFoundError);
    expect(
      batchEntryError({ ErrorCode: "InvalidRequestException", Message: "it was marked for deletion." }, ctx),
    ).toBeInstanceOf(SecretNotFoundError);
    expect(batchEntryError({ ErrorCode: "AccessDeniedException", Message: "no" }, ctx)).toBeInstanceOf(
      AccessDeniedError,
    );
    expect(batchEntryError({ ErrorCode: "DecryptionFailure", Message: "KMS says no" }, ctx)).toBeInstanceOf(
      AccessDeniedError,
    );
    expect(batchEntryError({ ErrorCode: "ThrottlingException" }, ctx)).toBeInstanceOf(
      BackendUnavailableError,
    );
    expect(batchEntryError({ ErrorCode: "InternalServiceError" }, ctx)).toBeInstanceOf(
      BackendUnavailableError,
    );
    // An unknown per-secret code is AWS refusing, not an outage to retry.
    expect(batchEntryError({ ErrorCode: "BrandNewException" }, ctx)).toBeInstanceOf(ConfigurationError);
  });
});

// CLI issue #20 point 3: no credentials anywhere is a configuration problem (exit 3) to fix on
// this machine, not AWS refusing the request (exit 4, "check the IAM policy").
describe("missing credentials", () => {
  it("the default chain finding nothing is a ConfigurationError that says where credentials come from", () => {
    const none = Object.assign(new Error("Could not load credentials from any providers"), {
      name: "CredentialsProviderError",
      tryNextLink: false,
    });
    const error = mapAwsError(none, ctx);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(/AWS_ACCESS_KEY_ID.*AWS_PROFILE.*'credentials'/);
    expect(error.message).toContain("'aws'");
  });

  it("a provider that found credentials it could not use stays AccessDeniedError", () => {
    const refused = Object.assign(new Error("Profile team-x did not include credential process"), {
      name: "CredentialsProviderError",
    });
    expect(mapAwsError(refused, ctx)).toBeInstanceOf(AccessDeniedError);
  });
});
