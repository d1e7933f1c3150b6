// The gRPC status → Keyway error mapping, with fabricated gax errors (the emulator cannot produce
// most of these statuses on demand).

import { printedForms } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  SecretDisabledError,
  SecretNotFoundError,
  type SecretsError,
} from "@keyway/core";
import { describe, expect, it } from "vitest";
import { type GcpOperation, GrpcStatus, mapGcpError } from "../src/errors.js";

const PRIVATE_KEY =
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";

/** An error shaped like gax's GoogleError: numeric `code`, `details`, gRPC `metadata`. */
function grpcError(code: number, details = "something happened"): Error {
  const name = Object.entries(GrpcStatus).find(([, c]) => c === code)?.[0];
  return Object.assign(new Error(`${code} ${name}: ${details}`), {
    code,
    details,
    metadata: { internalRepr: new Map([["authorization", ["Bearer ya29.a0AfH6SMBsecret-token-value"]]]) },
    note: "Exception occurred in retry method that was not classified as transient",
  });
}

const map = (
  error: unknown,
  operation: GcpOperation = "access",
  key: string | null = "DB_PASSWORD",
  signal?: AbortSignal,
) =>
  mapGcpError(error, {
    backend: "gcp:test",
    key: key ?? undefined,
    operation,
    secrets: [PRIVATE_KEY],
    signal,
  });

describe("mapGcpError", () => {
  it("NOT_FOUND is SecretNotFoundError with Kestra's message", () => {
    const error = map(grpcError(GrpcStatus.NOT_FOUND, "Secret [projects/p/secrets/x] not found"));
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toBe("Cannot find secret for key 'DB_PASSWORD'.");
    expect(error.backend).toBe("gcp:test");
    expect((error.cause as { code?: string }).code).toBe("NOT_FOUND");
  });

  it("NOT_FOUND without a secret in question (a missing project on list) is a configuration error", () => {
    expect(map(grpcError(GrpcStatus.NOT_FOUND), "list", null)).toBeInstanceOf(ConfigurationError);
  });

  it.each([
    ["PERMISSION_DENIED", GrpcStatus.PERMISSION_DENIED],
    ["UNAUTHENTICATED", GrpcStatus.UNAUTHENTICATED],
  ])("%s is AccessDeniedError, never a miss", (_, code) => {
    for (const op of ["access", "list", "write-value", "delete"] as const) {
      expect(map(grpcError(code), op)).toBeInstanceOf(AccessDeniedError);
    }
  });

  it("FAILED_PRECONDITION reading a value is SecretDisabledError, naming the state", () => {
    const disabled = map(
      grpcError(
        GrpcStatus.FAILED_PRECONDITION,
        "SecretVersion [projects/p/secrets/x/versions/1] is in DISABLED state.",
      ),
    );
    expect(disabled).toBeInstanceOf(SecretDisabledError);
    expect(disabled.message).toContain("disabled");
    const destroyed = map(
      grpcError(GrpcStatus.FAILED_PRECONDITION, "Version [x] is not enabled (state: DESTROYED)"),
    );
    expect(destroyed).toBeInstanceOf(SecretDisabledError);
    expect(destroyed.message).toContain("destroyed");
    expect(map(grpcError(GrpcStatus.FAILED_PRECONDITION), "write-metadata")).toBeInstanceOf(
      ConfigurationError,
    );
  });

  it.each([
    ["CANCELLED", GrpcStatus.CANCELLED],
    ["UNKNOWN", GrpcStatus.UNKNOWN],
    ["DEADLINE_EXCEEDED", GrpcStatus.DEADLINE_EXCEEDED],
    ["RESOURCE_EXHAUSTED", GrpcStatus.RESOURCE_EXHAUSTED],
    ["ABORTED", GrpcStatus.ABORTED],
    ["INTERNAL", GrpcStatus.INTERNAL],
    ["UNAVAILABLE", GrpcStatus.UNAVAILABLE],
    ["DATA_LOSS", GrpcStatus.DATA_LOSS],
    ["ALREADY_EXISTS", GrpcStatus.ALREADY_EXISTS],
  ])("%s is BackendUnavailableError (Keyway's resolver retries it)", (_, code) => {
    const error = map(grpcError(code));
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.message).toContain(Object.entries(GrpcStatus).find(([, c]) => c === code)?.[0]);
  });

  it("INVALID_ARGUMENT is an invalid value when writing a value, a configuration error elsewhere", () => {
    expect(map(grpcError(GrpcStatus.INVALID_ARGUMENT), "write-value")).toBeInstanceOf(
      InvalidSecretValueError,
    );
    expect(map(grpcError(GrpcStatus.INVALID_ARGUMENT), "access")).toBeInstanceOf(ConfigurationError);
    expect(map(grpcError(GrpcStatus.INVALID_ARGUMENT), "list", null)).toBeInstanceOf(ConfigurationError);
    expect(map(grpcError(GrpcStatus.UNIMPLEMENTED))).toBeInstanceOf(ConfigurationError);
  });

  it("after the caller's signal aborted, anything is unavailable (even a NOT_FOUND that raced it)", () => {
    const controller = new AbortController();
    controller.abort();
    expect(map(grpcError(GrpcStatus.NOT_FOUND), "access", "K", controller.signal)).toBeInstanceOf(
      BackendUnavailableError,
    );
    expect(map(new Error("aborted"), "access", "K", controller.signal)).toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it("errors without a gRPC status: network is unavailable, auth is denied, anything else unavailable", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 169.254.169.254:80"), {
      code: "ECONNREFUSED",
    });
    expect(map(refused)).toBeInstanceOf(BackendUnavailableError);
    expect((map(refused).cause as { code?: string }).code).toBe("ECONNREFUSED");
    expect(
      map(new Error("Could not load the default credentials. Browse to https://cloud.google.com/docs/...")),
    ).toBeInstanceOf(AccessDeniedError);
    expect(map(new Error("invalid_grant: Invalid JWT Signature."))).toBeInstanceOf(AccessDeniedError);
    expect(map(new TypeError("Cannot read properties of undefined"))).toBeInstanceOf(BackendUnavailableError);
    expect(map("a string was thrown")).toBeInstanceOf(BackendUnavailableError);
  });

  it("a Keyway error passes through unchanged", () => {
    const original = new SecretNotFoundError("X");
    expect(map(original)).toBe(original);
  });

  it("no credential survives: not the private key, not the bearer token, not the gRPC metadata", () => {
    const leaky = grpcError(
      GrpcStatus.PERMISSION_DENIED,
      `bad key ${PRIVATE_KEY} with Bearer ya29.a0AfH6SMBsecret-token-value`,
    );
    const errors: SecretsError[] = [
      map(leaky),
      map(
        Object.assign(new Error(`error:1E08010C:DECODER routines::unsupported ${PRIVATE_KEY}`), {
          config: { PRIVATE_KEY },
        }),
      ),
      map(grpcError(GrpcStatus.UNAVAILABLE, `token=ya29.secret-token-value password=hunter2`)),
    ];
    for (const error of errors) {
      const printed = printedForms(error);
      expect(printed).not.toContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7");
      expect(printed).not.toContain("secret-token-value");
      expect(printed).not.toContain("hunter2");
      expect(printed).not.toContain("internalRepr");
      expect(printed).not.toContain("authorization");
    }
  });
});
