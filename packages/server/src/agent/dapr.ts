/**
 * Dapr's secrets API: `GET /v1.0/secrets/{store}/{key}`, `GET /v1.0/secrets/{store}/bulk` and
 * `GET /v1.0/metadata`, token in `dapr-api-token`. The store name is the namespace;
 * `metadata.namespace=` names it instead (the Dapr SDK sends it only when given as a string), and
 * `metadata.tenant=` names the tenant (none without it). Dapr passes a request's metadata as
 * `metadata.<name>=` query parameters, so both come from the official clients unchanged, except
 * from the SDK's `getBulk`, which sends no metadata: a tenant's bulk read is a plain HTTP call.
 */
import type { SecretValue } from "@keyway/core";
import { failureOf, HttpError } from "../http/errors.js";
import { type Exchange, type ServeContext, sendAgentJson, sendJson } from "../http/exchange.js";

/** Dapr's error codes by Keyway error code. */
const DAPR_CODES: Record<string, string> = {
  NOT_FOUND: "ERR_SECRET_GET",
  ACCESS_DENIED: "ERR_PERMISSION_DENIED",
  UNAVAILABLE: "ERR_SECRET_GET",
  UNAUTHORIZED: "ERR_UNAUTHORIZED",
  CONFIGURATION: "ERR_SECRET_STORE_NOT_FOUND",
};

export async function handleDaprAgent(exchange: Exchange, context: ServeContext): Promise<void> {
  const { request, response, audit, segments } = exchange;
  audit.face = "dapr-agent";
  try {
    const token = request.headers["dapr-api-token"];
    if (!context.checkToken(typeof token === "string" ? token : undefined))
      throw new HttpError(401, "UNAUTHORIZED", "Bad or missing dapr-api-token.");
    if (exchange.method !== "GET")
      throw new HttpError(405, "METHOD_NOT_ALLOWED", "Use GET.", { Allow: "GET" });
    if (segments.length === 2 && segments[1] === "metadata") {
      audit.action = "metadata";
      audit.outcome = "ok";
      return sendJson(response, 200, metadata(context));
    }
    if (segments.length !== 4 || segments[1] !== "secrets")
      throw new HttpError(
        404,
        "NO_ROUTE",
        "Use GET /v1.0/secrets/{store}/{key} or /v1.0/secrets/{store}/bulk.",
      );
    const store = segments[2] as string;
    const namespace = exchange.query.get("metadata.namespace") ?? store;
    // Checked by the router with the rest of the ref: an empty or malformed tenant is a 422.
    const tenant = exchange.query.get("metadata.tenant") ?? undefined;
    const key = segments[3] as string;
    audit.namespace = namespace;
    audit.tenant = tenant;
    if (key === "bulk") {
      audit.action = "bulk";
      const body = await bulk(context, namespace, tenant);
      audit.outcome = "ok";
      return sendJson(response, 200, body);
    }
    audit.action = "get";
    audit.key = key;
    const value = await context.router.resolve({ tenant, namespace, key });
    audit.outcome = "ok";
    sendAgentJson(response, JSON.stringify({ [key]: textOf(value) }));
  } catch (error) {
    const failure = failureOf(error);
    audit.outcome = failure.code;
    // Dapr answers a failed read with 500 ERR_SECRET_GET; a missing secret keeps 404, so no client
    // mistakes it for an outage.
    const errorCode =
      DAPR_CODES[failure.code] ?? (failure.status < 500 ? "ERR_BAD_REQUEST" : "ERR_SECRET_GET");
    const status = failure.code === "UNAVAILABLE" ? 500 : failure.status;
    if (!response.headersSent)
      sendJson(response, status, { errorCode, message: failure.message }, failure.headers);
  }
}

/** Every key the namespace can read (its own and inherited), each resolved: `{ KEY: { KEY: value } }`. */
async function bulk(
  context: ServeContext,
  namespace: string,
  tenant: string | undefined,
): Promise<Record<string, Record<string, string>>> {
  const listed = await context.router.list(namespace, { tenant, inherited: true });
  const refs = listed.map((item) => ({ tenant, namespace, key: item.key }));
  const values = await context.router.resolveMany(refs);
  const out: Record<string, Record<string, string>> = {};
  for (const ref of refs) {
    const value = values.get(ref);
    if (value === undefined || !("reveal" in value)) {
      if (value !== undefined && value.code !== "NOT_FOUND") throw value; // denied, unavailable: say so
      continue; // deleted between the list and the read
    }
    out[ref.key] = { [ref.key]: textOf(value) };
  }
  return out;
}

/** Dapr values are strings: binary secrets are sent as base64. */
function textOf(value: SecretValue): string {
  return value.isBinary ? Buffer.from(value.revealBytes()).toString("base64") : value.reveal();
}

/** What `GET /v1.0/metadata` answers: one secret store per namespace a rule serves. */
function metadata(context: ServeContext): Record<string, unknown> {
  const stores = [
    ...new Set(context.rules.filter((r) => r.tenant === undefined && r.match !== "").map((r) => r.match)),
  ];
  return {
    id: "keyway",
    runtimeVersion: "keyway-serve",
    enabledFeatures: [],
    components: stores.map((name) => ({
      name,
      type: "secretstores.keyway",
      version: "v1",
      capabilities: [],
    })),
  };
}
