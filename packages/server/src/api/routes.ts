/**
 * The Kestra-shaped namespace-secrets API: `/api/v1/{tenant}/namespaces/{namespace}/secrets`
 * (list, PUT create or update), `…/secrets/{key}` (PATCH metadata, DELETE), `…/inherited-secrets`,
 * and the same paths without `{tenant}`. Never a value in a response.
 */
import { validateRef } from "@keyway/core/backend";
import { z } from "zod";
import { bearerToken } from "../http/auth.js";
import { readJson } from "../http/body.js";
import { failureOf, HttpError } from "../http/errors.js";
import { type Exchange, type ServeContext, sendJson } from "../http/exchange.js";
import { isReadOnly, secretsOf } from "../namespaces.js";
import { createSecret, patchMetadata } from "../writes.js";

const tagsSchema = z
  .array(z.strictObject({ key: z.string().min(1).max(256), value: z.string().max(4096) }))
  .max(64);
const putSchema = z.strictObject({
  key: z.string(),
  value: z.string(),
  description: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
});
const patchSchema = z.strictObject({
  description: z.string().max(4096).optional(),
  tags: tagsSchema.optional(),
});
const pageSchema = z.strictObject({
  page: z.coerce.number().int().min(1).default(1),
  size: z.coerce.number().int().min(1).max(1000).default(10),
  q: z.string().max(256).optional(),
  sort: z.string().max(64).optional(),
});

/** Where a request points: its tenant, namespace and what follows. */
interface Target {
  tenant: string | undefined;
  namespace: string;
  rest: readonly string[];
}

/** Reads `[{tenant}/]namespaces/{namespace}/…`; the tenant-less form wins where both fit. */
function targetOf(segments: readonly string[]): Target | undefined {
  const [first, second, third, ...more] = segments;
  const secretsTail = (tail: readonly string[]) =>
    (tail.length === 1 && (tail[0] === "secrets" || tail[0] === "inherited-secrets")) ||
    (tail.length === 2 && tail[0] === "secrets");
  if (first === "namespaces" && second !== undefined && secretsTail(segments.slice(2)))
    return { tenant: undefined, namespace: second, rest: segments.slice(2) };
  if (second === "namespaces" && first !== undefined && third !== undefined && secretsTail(more))
    return { tenant: first, namespace: third, rest: more };
  return undefined;
}

/** Handles `/api/v1/…`; answers every failure as `{ code, message }` with its status. */
export async function handleApi(exchange: Exchange, context: ServeContext): Promise<void> {
  const { request, response } = exchange;
  exchange.audit.face = "api";
  try {
    if (!context.checkToken(bearerToken(request.headers.authorization)))
      throw new HttpError(401, "UNAUTHORIZED", "Send Authorization: Bearer <token>.", {
        "WWW-Authenticate": 'Bearer realm="keyway"',
      });
    const target = targetOf(exchange.segments.slice(2));
    if (target === undefined) throw new HttpError(404, "NO_ROUTE", "No such API route.");
    Object.assign(exchange.audit, { tenant: target.tenant, namespace: target.namespace });
    await route(exchange, context, target);
    exchange.audit.outcome = "ok";
  } catch (error) {
    const failure = failureOf(error);
    exchange.audit.outcome = failure.code;
    if (!response.headersSent)
      sendJson(response, failure.status, { code: failure.code, message: failure.message }, failure.headers);
  }
}

async function route(exchange: Exchange, context: ServeContext, target: Target): Promise<void> {
  const { router } = context;
  const { method, response } = exchange;
  const { tenant, namespace, rest } = target;
  const [kind, key] = rest;
  if (kind === "inherited-secrets") {
    allow(method, ["GET"]);
    exchange.audit.action = "inherited";
    const all = await secretsOf(router, namespace, tenant, true);
    // Kestra's shape: each ancestor namespace with the keys it passes down.
    const byNamespace: Record<string, string[]> = {};
    for (const item of all) {
      if (!item.inherited) continue;
      byNamespace[item.namespace] = [...(byNamespace[item.namespace] ?? []), item.key];
    }
    return sendJson(response, 200, byNamespace);
  }
  if (key === undefined) {
    allow(method, ["GET", "PUT"]);
    if (method === "GET") {
      exchange.audit.action = "list";
      const { page, size, q } = parse(pageSchema, Object.fromEntries(exchange.query));
      const own = await secretsOf(router, namespace, tenant, false);
      const matching =
        q === undefined ? own : own.filter((s) => s.key.toLowerCase().includes(q.toLowerCase()));
      const results = matching
        .slice((page - 1) * size, page * size)
        .map(({ inherited: _, ...summary }) => summary);
      return sendJson(response, 200, {
        readOnly: isReadOnly(router, namespace, tenant),
        results,
        total: matching.length,
      });
    }
    // Kestra's PUT creates or updates; `If-None-Match: *` (HTTP's "only if absent") makes it a create.
    exchange.audit.action = "put";
    const createOnly = createOnlyOf(exchange.request.headers["if-none-match"]);
    if (createOnly) exchange.audit.action = "create";
    const body = parse(putSchema, await readJson(exchange.request, context.maxBodyBytes));
    exchange.audit.key = body.key;
    const ref = validateRef({ tenant, namespace, key: body.key });
    const metadata = {
      description: body.description,
      tags: body.tags && Object.fromEntries(body.tags.map((t) => [t.key, t.value])),
    };
    if (createOnly) await createSecret(context, ref, body.value, metadata);
    else await router.put(ref, body.value, metadata);
    const backend = router.ruleFor(namespace, tenant)?.backend;
    return sendJson(response, 200, {
      key: ref.key,
      ...(body.description === undefined ? {} : { description: body.description }),
      tags: body.tags ?? [],
      namespace,
      backend,
    });
  }
  exchange.audit.key = key;
  allow(method, ["PATCH", "DELETE"]);
  const ref = validateRef({ tenant, namespace, key });
  if (method === "DELETE") {
    exchange.audit.action = "delete";
    router.assertWritable(namespace, tenant);
    await router.delete(ref);
    response.writeHead(204, { "Cache-Control": "no-store" }).end();
    return;
  }
  exchange.audit.action = "patch";
  const body = parse(patchSchema, await readJson(exchange.request, context.maxBodyBytes));
  await patchMetadata(context, ref, body);
  const backend = router.ruleFor(namespace, tenant)?.backend;
  const listed = (await secretsOf(router, namespace, tenant, false)).find((s) => s.key === ref.key);
  return sendJson(response, 200, {
    key: ref.key,
    ...(listed?.description === undefined ? {} : { description: listed.description }),
    tags: listed?.tags ?? [],
    namespace,
    backend,
  });
}

/** `If-None-Match: *` asks for a create; the server gives no ETags, so any other value is refused. */
function createOnlyOf(header: string | undefined): boolean {
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  throw new HttpError(
    422,
    "INVALID_REQUEST",
    "If-None-Match takes only * (create, refusing an existing key): this API gives no ETags.",
  );
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method))
    throw new HttpError(405, "METHOD_NOT_ALLOWED", `Use ${methods.join(" or ")} here.`, {
      Allow: methods.join(", "),
    });
}

/** Validates input; a bad shape is a 422 naming the fields, never echoing what was sent. */
function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const where = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`)
    .join("; ");
  throw new HttpError(422, "INVALID_REQUEST", `Invalid request: ${where}.`);
}
