// The error mapping with fabricated node-vault errors (the server suites force the real ones).
import { inspect } from "node:util";
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
import { CheckAndSetConflictError, type ErrorContext, mapVaultError } from "../src/errors.js";
import { VaultTransportError } from "../src/transport.js";

const token = "tok-9f8e7d6c5b4a-distinctive";
const ctx = (extra: Partial<ErrorContext> = {}): ErrorContext => ({
  backend: "vault",
  operation: "read",
  key: "DB",
  path: "secret/data/keyway/_/ns/DB",
  secrets: [token],
  ...extra,
});

/** What node-vault 0.12 rejects with for a non-2xx answer, plus the request options older versions attached. */
function apiError(statusCode: number, body: unknown = { errors: [] }): Error {
  const errors = (body as { errors?: string[] })?.errors;
  return Object.assign(new Error(errors?.[0] ?? `Status ${statusCode}`), {
    response: { statusCode, body },
    options: { headers: { "X-Vault-Token": token }, uri: "http://vault:8200/v1/secret/data/x" },
  });
}

/** What axios rejects with when there is no answer: the request config, token header included. */
function axiosError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:9`), {
    name: "AxiosError",
    code,
    config: { headers: { "X-Vault-Token": token }, url: "http://127.0.0.1:9/v1/secret/data/x" },
    request: { _header: `GET /v1/secret/data/x HTTP/1.1\r\nX-Vault-Token: ${token}\r\n` },
  });
}

function mapped(error: unknown, extra?: Partial<ErrorContext>): SecretsError {
  const result = mapVaultError(error, ctx(extra));
  expect(printedForms(result)).not.toContain(token);
  expect(inspect(result, { showHidden: true, depth: 10 })).not.toContain(token);
  return result;
}

describe("mapVaultError", () => {
  it("404 is SecretNotFoundError with Kestra's message", () => {
    const error = mapped(apiError(404));
    expect(error).toBeInstanceOf(SecretNotFoundError);
    expect(error.message).toBe("Cannot find secret for key 'DB'.");
    expect(error.backend).toBe("vault");
  });

  it("404 'no handler for route' (no such mount) is ConfigurationError, never not-found", () => {
    const error = mapped(
      apiError(404, { errors: ['no handler for route "nomount/data/x". route entry not found.'] }),
    );
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain("check 'mount'");
  });

  it("404 with the versioned K/V warning (kvVersion 1 on a v2 mount) is ConfigurationError", () => {
    const body = {
      data: null,
      warnings: ["Invalid path for a versioned K/V secrets engine. See the API docs."],
    };
    expect(mapped(apiError(404, body))).toBeInstanceOf(ConfigurationError);
  });

  it("404 on a deleted or destroyed version is SecretDisabledError", () => {
    const deleted = {
      data: { data: null, metadata: { version: 3, deletion_time: "2026-01-01T00:00:00Z", destroyed: false } },
    };
    const destroyed = { data: { data: null, metadata: { version: 2, deletion_time: "", destroyed: true } } };
    expect(mapped(apiError(404, deleted))).toBeInstanceOf(SecretDisabledError);
    expect(mapped(apiError(404, destroyed)).message).toContain("version 2");
  });

  it("401 and 403 are AccessDeniedError; a refused login (400 too) is AccessDeniedError", () => {
    expect(mapped(apiError(403, { errors: ["permission denied"] }))).toBeInstanceOf(AccessDeniedError);
    expect(mapped(apiError(401))).toBeInstanceOf(AccessDeniedError);
    const login = mapped(apiError(400, { errors: ["invalid role or secret ID"] }), {
      operation: "login",
      method: "approle",
    });
    expect(login).toBeInstanceOf(AccessDeniedError);
    expect(login.message).toContain("approle");
  });

  it("400: check-and-set conflict, cas required, a refused write value, a refused read", () => {
    const conflict = mapped(
      apiError(400, { errors: ["check-and-set parameter did not match the current version"] }),
      {
        operation: "write",
      },
    );
    expect(conflict).toBeInstanceOf(CheckAndSetConflictError);
    expect(conflict).toBeInstanceOf(InvalidSecretValueError);
    const required = mapped(apiError(400, { errors: ["check-and-set parameter required for this call"] }), {
      operation: "write",
    });
    expect(required).toBeInstanceOf(ConfigurationError);
    expect(mapped(apiError(400, { errors: ["no data provided"] }), { operation: "write" })).toBeInstanceOf(
      InvalidSecretValueError,
    );
    expect(mapped(apiError(400, { errors: ["bad version"] }))).toBeInstanceOf(ConfigurationError);
    expect(
      mapped(apiError(413, { errors: ["http: request body too large"] }), { operation: "write" }),
    ).toBeInstanceOf(InvalidSecretValueError);
  });

  it("412, 429, 5xx, 503 sealed and redirects are BackendUnavailableError", () => {
    for (const status of [412, 429, 500, 502, 503, 504, 307]) {
      expect(mapped(apiError(status)), String(status)).toBeInstanceOf(BackendUnavailableError);
    }
    expect(mapped(apiError(503, { errors: ["Vault is sealed"] })).message).toContain("sealed");
  });

  it("network errors, timeouts and aborts are BackendUnavailableError (ours and axios's)", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "ENOTFOUND", "ABORT_ERR"]) {
      expect(mapped(new VaultTransportError("failed", code)), code).toBeInstanceOf(BackendUnavailableError);
      expect(mapped(axiosError(code)), code).toBeInstanceOf(BackendUnavailableError);
    }
    const abort = Object.assign(new Error("This operation was aborted"), { name: "AbortError" });
    expect(mapped(abort)).toBeInstanceOf(BackendUnavailableError);
  });

  it("TLS failures are ConfigurationError; node-vault's argument checks (tv4) too", () => {
    expect(mapped(new VaultTransportError("failed", "DEPTH_ZERO_SELF_SIGNED_CERT"))).toBeInstanceOf(
      ConfigurationError,
    );
    expect(mapped({ message: "Missing required property: role_id", code: 302, dataPath: "" })).toBeInstanceOf(
      ConfigurationError,
    );
  });

  it("anything else is BackendUnavailableError, never a miss", () => {
    expect(mapped(new TypeError("x is not a function"))).toBeInstanceOf(BackendUnavailableError);
    expect(mapped("a string")).toBeInstanceOf(BackendUnavailableError);
  });

  it("Keyway errors pass through untouched", () => {
    const original = new SecretNotFoundError("X");
    expect(mapVaultError(original, ctx())).toBe(original);
  });

  it("keeps the status and Vault's error strings, scrubbed of every known credential (node-vault #50, #124)", () => {
    const error = mapped(apiError(500, { errors: [`internal error: token ${token} rejected`] }));
    expect(error.message).toContain("500");
    expect(error.message).toContain("internal error");
    const cause = error.cause as { status?: number; stack?: string };
    expect(cause.status).toBe(500);
    expect(JSON.stringify(error)).not.toContain("X-Vault-Token");
    expect(inspect(error.cause, { showHidden: true, depth: 10 })).not.toContain("headers");
  });

  it("scrubs a written value echoed in an error string", () => {
    const value = "the-written-value-123";
    const error = mapVaultError(
      apiError(400, { errors: [`failed to parse: ${value}`] }),
      ctx({ operation: "write", secrets: [token, value] }),
    );
    expect(printedForms(error)).not.toContain(value);
  });
});

// CLI issue #20 point 3: a 403 says what to check.
describe("a denied read says what to check", () => {
  it("names the token and its policy", () => {
    const error = mapVaultError(apiError(403, { errors: ["permission denied"] }), ctx());
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toMatch(/check the token .*policy/);
    expect(error.message).not.toContain(token);
  });
});
