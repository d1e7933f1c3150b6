/**
 * AWS Secrets Manager Agent's API: `GET /secretsmanager/get?secretId=<namespace>/<key>` (or
 * `tenant:<tenant>/<namespace>/<key>`), token in `X-Aws-Parameters-Secrets-Token`, answered like
 * `GetSecretValue`. A read through the router's cache, rules and inheritance, as the namespace
 * itself reads it.
 */
import type { SecretValue } from "@keyway/core";
import { failureOf, HttpError } from "../http/errors.js";
import { type Exchange, type ServeContext, sendAgentJson, sendJson } from "../http/exchange.js";

/** AWS's error types, by Keyway error code (the JSON protocol's `__type`). */
const AWS_TYPES: Record<string, string> = {
  NOT_FOUND: "ResourceNotFoundException",
  SUBKEY_NOT_FOUND: "ResourceNotFoundException",
  DISABLED: "ResourceNotFoundException",
  ACCESS_DENIED: "AccessDeniedException",
  READ_ONLY: "AccessDeniedException",
  UNAVAILABLE: "InternalServiceError",
  UNAUTHORIZED: "AccessDeniedException",
  RATE_LIMITED: "ThrottlingException",
};

const TENANT_PREFIX = "tenant:";

/**
 * `<namespace>/<key>`: the key after the last slash; no slash, the root namespace. With the prefix
 * `tenant:<tenant>/`, the same inside that tenant. Unambiguous: no namespace or key holds a `:`,
 * and no tenant a `/`, so an id with the prefix is never a tenant-less ref, and its tenant ends at
 * the first slash. (The router validates all three; a bad one is a 422.)
 */
export function splitSecretId(secretId: string): {
  tenant: string | undefined;
  namespace: string;
  key: string;
} {
  let tenant: string | undefined;
  let rest = secretId;
  if (secretId.startsWith(TENANT_PREFIX)) {
    const slash = secretId.indexOf("/", TENANT_PREFIX.length);
    if (slash < 0)
      throw new HttpError(
        400,
        "INVALID_REQUEST",
        "Write a tenant's secretId as tenant:<tenant>/<namespace>/<key>.",
      );
    tenant = secretId.slice(TENANT_PREFIX.length, slash);
    rest = secretId.slice(slash + 1);
  }
  const slash = rest.lastIndexOf("/");
  return slash < 0
    ? { tenant, namespace: "", key: rest }
    : { tenant, namespace: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

export async function handleAwsAgent(exchange: Exchange, context: ServeContext): Promise<void> {
  const { request, response, audit } = exchange;
  audit.face = "aws-agent";
  audit.action = "get";
  try {
    // As AWS's agent: a request relayed by a proxy could carry a local token from elsewhere (SSRF).
    if (request.headers["x-forwarded-for"] !== undefined)
      throw new HttpError(400, "FORWARDED", "Requests with X-Forwarded-For are refused.");
    const token = request.headers["x-aws-parameters-secrets-token"];
    if (!context.checkToken(typeof token === "string" ? token : undefined))
      throw new HttpError(403, "UNAUTHORIZED", "Bad or missing X-Aws-Parameters-Secrets-Token.");
    if (exchange.method !== "GET" || exchange.segments.length !== 2 || exchange.segments[1] !== "get")
      throw new HttpError(404, "NO_ROUTE", "Use GET /secretsmanager/get?secretId=<namespace>/<key>.");
    const secretId = exchange.query.get("secretId");
    if (!secretId) throw new HttpError(400, "INVALID_REQUEST", "secretId is required.");
    const stage = exchange.query.get("versionStage");
    if ((stage !== null && stage !== "AWSCURRENT") || exchange.query.has("versionId"))
      throw new HttpError(400, "INVALID_REQUEST", "Only the current version (AWSCURRENT) is served.");
    const { tenant, namespace, key } = splitSecretId(secretId);
    audit.tenant = tenant;
    audit.namespace = namespace;
    audit.key = key;
    const value = await context.router.resolve({ tenant, namespace, key });
    audit.outcome = "ok";
    sendAgentJson(response, answerFor(secretId, value));
  } catch (error) {
    const failure = failureOf(error);
    audit.outcome = failure.code;
    const type =
      AWS_TYPES[failure.code] ?? (failure.status < 500 ? "InvalidRequestException" : "InternalServiceError");
    // AWS answers a missing secret or a denial with 400 and its type; keep the status by class otherwise.
    const status = failure.status === 404 ? 400 : failure.status;
    if (!response.headersSent)
      sendJson(response, status, { __type: type, message: failure.message }, failure.headers);
  }
}

/**
 * The answer's JSON per cached value: a cache hit returns the same SecretValue object, so its
 * answer is built once, not per read, and goes when the cache drops the value.
 */
const answers = new WeakMap<SecretValue, { secretId: string; text: string }>();
function answerFor(secretId: string, value: SecretValue): string {
  const known = answers.get(value);
  if (known !== undefined && known.secretId === secretId) return known.text;
  const text = JSON.stringify(getSecretValueOutput(secretId, value));
  answers.set(value, { secretId, text });
  return text;
}

/** `GetSecretValue`'s output: SecretString for text, SecretBinary (base64) for bytes. */
function getSecretValueOutput(secretId: string, value: SecretValue): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ARN: `arn:keyway:secretsmanager:local:000000000000:secret:${secretId}`,
    Name: secretId,
  };
  if (value.metadata.version !== undefined) out.VersionId = value.metadata.version;
  if (value.isBinary) out.SecretBinary = Buffer.from(value.revealBytes()).toString("base64");
  else out.SecretString = value.reveal();
  out.VersionStages = ["AWSCURRENT"];
  if (value.metadata.updatedAt !== undefined) out.CreatedDate = value.metadata.updatedAt.getTime() / 1000;
  return out;
}
