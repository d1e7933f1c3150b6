// Unit tests of the error mapping with SDK errors built the way the SDK builds them (RestError
// with Key Vault's `details`, AbortError, @azure/identity errors). Mocks are fine here: the real
// server suite (azure.server.test.ts) checks the same mapping against Lowkey Vault.
import { AbortError } from "@azure/abort-controller";
import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { AuthenticationError, CredentialUnavailableError } from "@azure/identity";
import { printedForms } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidReferenceError,
  InvalidSecretValueError,
  SecretDisabledError,
  SecretNotFoundError,
} from "@keyway/core";
import { describe, expect, it } from "vitest";
import { type ErrorContext, innerCodeOf, isDeletedConflict, mapAzureError } from "../src/errors.js";

const CLIENT_SECRET = "Xy8Q~s3cr3t-client-secret-value.abc";
const TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature";
const get: ErrorContext = {
  backend: "azure",
  operation: "get",
  key: "DB_PASSWORD",
  secrets: [CLIENT_SECRET],
};

/** A RestError as @azure-rest/core-client's createRestError plus keyvault-secrets' `details` make it. */
function keyVaultError(status: number, code: string, message: string, inner?: string): RestError {
  const request = createPipelineRequest({
    url: "https://vault.example/secrets/keyway-0-0ns-0-4db-2password-0?api-version=2025-07-01",
    headers: createHttpHeaders({ authorization: `Bearer ${TOKEN}` }),
  });
  const error = new RestError(message, {
    statusCode: status,
    code,
    request,
    response: {
      status,
      headers: createHttpHeaders(),
      request,
      bodyAsText: JSON.stringify({ error: { code, message } }),
    },
  });
  return Object.assign(error, {
    details: { error: { code, message, innerError: inner === undefined ? undefined : { code: inner } } },
  });
}

describe("mapAzureError", () => {
  it("404 on get is SecretNotFoundError with Kestra's message", () => {
    const error = mapAzureError(
      keyVaultError(404, "SecretNotFound", "A secret with (name/id) x was not found"),
      get,
    );
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toBe("Cannot find secret for key 'DB_PASSWORD'.");
    expect(error.backend).toBe("azure");
  });

  it("404 on delete is SecretNotFoundError, on list an outage (never a miss)", () => {
    const notFound = keyVaultError(404, "SecretNotFound", "not found");
    expect(mapAzureError(notFound, { ...get, operation: "delete" })).toBeInstanceOf(SecretNotFoundError);
    expect(mapAzureError(notFound, { backend: "azure", operation: "list" })).toBeInstanceOf(
      BackendUnavailableError,
    );
  });

  it("403 with inner code SecretDisabled is SecretDisabledError, not access denied", () => {
    const error = mapAzureError(
      keyVaultError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled"),
      get,
    );
    expect(error).toBeInstanceOf(SecretDisabledError);
    expect(error.message).toContain("DB_PASSWORD");
  });

  it("Lowkey Vault's 404 'not allowed on a disabled entity' is SecretDisabledError, not a miss", () => {
    // Lowkey's GenericEntityController throws NotFoundException for a disabled entity.
    const lowkey = keyVaultError(
      404,
      "com.github.nagyesta.lowkeyvault.service.exception.NotFoundException",
      "Operation get is not allowed on a disabled entity.",
    );
    expect(mapAzureError(lowkey, get)).toBeInstanceOf(SecretDisabledError);
  });

  it("403 without it, and 401, are AccessDeniedError", () => {
    expect(
      mapAzureError(keyVaultError(403, "Forbidden", "The user does not have secrets get permission"), get),
    ).toBeInstanceOf(AccessDeniedError);
    expect(
      mapAzureError(keyVaultError(403, "Forbidden", "Caller is not authorized", "ForbiddenByPolicy"), get),
    ).toBeInstanceOf(AccessDeniedError);
    expect(
      mapAzureError(keyVaultError(401, "Unauthorized", "AKV10000: Request is missing a Bearer"), get),
    ).toBeInstanceOf(AccessDeniedError);
  });

  it.each([408, 409, 429, 500, 502, 503, 504])(
    "%i is BackendUnavailableError (retried by the resolver)",
    (status) => {
      expect(mapAzureError(keyVaultError(status, "Throttled", "busy"), get)).toBeInstanceOf(
        BackendUnavailableError,
      );
    },
  );

  it("network errors (a RestError without status) are BackendUnavailableError", () => {
    for (const code of [
      "ECONNREFUSED",
      "ECONNRESET",
      "ENOTFOUND",
      "ETIMEDOUT",
      RestError.REQUEST_SEND_ERROR,
    ]) {
      const error = mapAzureError(new RestError(`connect ${code} 127.0.0.1:1`, { code }), get);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(error.message).toContain(code);
    }
  });

  it("an untrusted TLS certificate is a ConfigurationError that points at the 'ca' option", () => {
    for (const code of [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      "SELF_SIGNED_CERT_IN_CHAIN",
      "ERR_TLS_CERT_ALTNAME_INVALID",
    ]) {
      const error = mapAzureError(new RestError("self-signed certificate", { code }), get);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toContain("'ca'");
    }
  });

  it("aborts and the SDK's own timeouts (AbortError) are BackendUnavailableError", () => {
    expect(mapAzureError(new AbortError("The operation was aborted."), get)).toBeInstanceOf(
      BackendUnavailableError,
    );
    const domAbort = new DOMException("This operation was aborted", "AbortError");
    expect(mapAzureError(domAbort, get)).toBeInstanceOf(BackendUnavailableError);
  });

  it("@azure/identity: no credential or a refused one is AccessDeniedError; its 5xx is an outage", () => {
    expect(
      mapAzureError(new CredentialUnavailableError("EnvironmentCredential is unavailable"), get),
    ).toBeInstanceOf(AccessDeniedError);
    expect(mapAzureError(new AuthenticationError(401, { error: "invalid_client" }), get)).toBeInstanceOf(
      AccessDeniedError,
    );
    expect(
      mapAzureError(new AuthenticationError(503, { error: "temporarily_unavailable" }), get),
    ).toBeInstanceOf(BackendUnavailableError);
  });

  it("400 reads as a bad value on put and a bad reference on get", () => {
    const bad = keyVaultError(400, "BadParameter", "Invalid version");
    expect(mapAzureError(bad, { ...get, operation: "put" })).toBeInstanceOf(InvalidSecretValueError);
    expect(mapAzureError(bad, get)).toBeInstanceOf(InvalidReferenceError);
  });

  it("never turns an unknown failure into not-found (unstorage's Azure driver does: catch { return null })", () => {
    for (const thrown of [
      new Error("boom"),
      new TypeError("x is undefined"),
      "a string",
      undefined,
      { statusCode: "404" },
    ]) {
      const error = mapAzureError(thrown, get);
      expect(error).not.toBeInstanceOf(SecretNotFoundError);
      expect(error).toBeInstanceOf(BackendUnavailableError);
    }
  });

  it("passes Keyway errors through unchanged", () => {
    const original = new SecretDisabledError("x");
    expect(mapAzureError(original, get)).toBe(original);
  });

  it("keeps no credential and no request in the error (node-vault #50 style leaks)", () => {
    const leaky = keyVaultError(
      401,
      "Unauthorized",
      `Invalid client secret ${CLIENT_SECRET} for Bearer ${TOKEN}`,
    );
    const error = mapAzureError(leaky, get);
    const printed = printedForms(error);
    expect(printed).not.toContain(CLIENT_SECRET);
    expect(printed).not.toContain(TOKEN);
    expect(printed).not.toContain("authorization");
    expect((error.cause as { status?: number }).status).toBe(401);
  });

  it("scrubs the value being written from the cause", () => {
    const value = "hunter2-the-value-being-put";
    const error = mapAzureError(keyVaultError(400, "BadParameter", `Bad value '${value}'`), {
      ...get,
      operation: "put",
      secrets: [value],
    });
    expect(printedForms(error)).not.toContain(value);
  });
});

describe("helpers", () => {
  it("innerCodeOf reads Key Vault's inner code, else the outer one", () => {
    expect(innerCodeOf(keyVaultError(403, "Forbidden", "m", "SecretDisabled"))).toBe("SecretDisabled");
    expect(innerCodeOf(keyVaultError(403, "Forbidden", "m"))).toBe("Forbidden");
    expect(innerCodeOf(new Error("x"))).toBeUndefined();
  });

  it("isDeletedConflict is a 409", () => {
    expect(isDeletedConflict(keyVaultError(409, "Conflict", "deleted but recoverable"))).toBe(true);
    expect(isDeletedConflict(keyVaultError(404, "SecretNotFound", "m"))).toBe(false);
  });
});
