/**
 * The console (the Secrets tab): login with the token into an HttpOnly, SameSite=Strict cookie;
 * forms for create, edit and delete, each with the session's CSRF token; a CSP with no inline
 * script. Pages are built from listings: a stored value never reaches the browser.
 */
import type { ServerResponse } from "node:http";
import { isSecretsError, validateRef } from "@keyway/core/backend";
import { type ConsoleSession, cookie, sameSecret } from "../http/auth.js";
import { readForm } from "../http/body.js";
import { failureOf, HttpError } from "../http/errors.js";
import { BASE_HEADERS, type Exchange, type ServeContext } from "../http/exchange.js";
import { isReadOnly, namespaceTree, secretsOf, tenantsOf } from "../namespaces.js";
import { createSecret, patchMetadata } from "../writes.js";
import { APP_JS, STYLE_CSS } from "./assets.js";
import type { Html } from "./html.js";
import {
  consoleHref,
  deletePage,
  editPage,
  errorPage,
  existsPage,
  homePage,
  loginPage,
  namespacePage,
  type PageContext,
} from "./pages.js";

const COOKIE = "keyway_session";
/** No inline script or style; forms post only here; never framed. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export async function handleConsole(exchange: Exchange, context: ServeContext): Promise<void> {
  const { response, segments, method, audit } = exchange;
  audit.face = "console";
  const page = segments[1] ?? "";
  audit.action = page || "home";
  let session: ConsoleSession | undefined;
  try {
    if (segments[0] === undefined || segments[0] === "") return redirect(response, "/console");
    if (page === "assets" && method === "GET") return asset(response, segments[2]);
    if (page === "login") return await login(exchange, context);
    const sessionId = cookie(exchange.request.headers.cookie, COOKIE);
    session = context.sessions.get(sessionId);
    if (session === undefined) {
      if (method === "GET") return redirect(response, "/console/login");
      throw new HttpError(401, "UNAUTHORIZED", "Log in first.");
    }
    if (method === "POST") {
      checkOrigin(exchange);
      const form = await readForm(exchange.request, context.maxBodyBytes);
      if (!sameSecret(form.get("csrf"), session.csrf))
        throw new HttpError(403, "CSRF", "The form's CSRF token is missing or wrong; reload the page.");
      if (page === "logout") {
        context.sessions.delete(sessionId);
        response.setHeader("Set-Cookie", `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`);
        return redirect(response, "/console/login");
      }
      if (page === "secrets") return await save(exchange, context, session, form);
      if (page === "delete") return await remove(exchange, context, form);
      throw new HttpError(404, "NO_ROUTE", "No such console action.");
    }
    if (method !== "GET")
      throw new HttpError(405, "METHOD_NOT_ALLOWED", "Use GET or POST.", { Allow: "GET, POST" });
    const tenant = exchange.query.get("tenant") ?? undefined;
    const namespace = exchange.query.get("ns") ?? undefined;
    Object.assign(audit, { tenant, namespace });
    const base = pageContext(context, session, tenant, namespace);
    if (page === "") {
      if (namespace === undefined) return sendHtml(response, 200, homePage(base));
      // Only the console's own notices: a link cannot make the page say something else.
      const done = exchange.query.get("done") ?? "";
      const notice = /^(Saved|Deleted) [A-Za-z0-9_-]{1,255}\.$/.test(done) ? done : undefined;
      return await showNamespace(exchange, context, base, namespace, notice);
    }
    const key = exchange.query.get("key") ?? "";
    audit.key = key;
    if (namespace === undefined) throw new HttpError(422, "INVALID_REQUEST", "Choose a namespace.");
    const ref = validateRef({ tenant, namespace, key });
    if (page === "edit") {
      const secret = (await secretsOf(context.router, namespace, tenant, false)).find(
        (s) => s.key === ref.key,
      );
      if (secret === undefined)
        throw new HttpError(404, "NOT_FOUND", `No secret '${ref.key}' in namespace '${namespace}'.`);
      return sendHtml(response, 200, editPage(base, namespace, secret));
    }
    if (page === "delete") return sendHtml(response, 200, deletePage(base, namespace, ref.key));
    throw new HttpError(404, "NO_ROUTE", "No such console page.");
  } catch (error) {
    const failure = failureOf(error);
    audit.outcome = failure.code;
    if (response.headersSent) return;
    const tenant = exchange.query.get("tenant") ?? undefined;
    const shown = session && pageContext(context, session, tenant, undefined);
    for (const [name, value] of Object.entries(failure.headers)) response.setHeader(name, value);
    sendHtml(response, failure.status, errorPage(failure.status, failure.message, shown));
  }
}

function pageContext(
  context: ServeContext,
  session: ConsoleSession,
  tenant: string | undefined,
  namespace: string | undefined,
): PageContext {
  return {
    csrf: session.csrf,
    tenant,
    tenants: tenantsOf(context.rules),
    tree: namespaceTree(context.rules, tenant, namespace === undefined ? [] : [namespace]),
    namespace,
  };
}

async function showNamespace(
  exchange: Exchange,
  context: ServeContext,
  base: PageContext,
  namespace: string,
  notice: string | undefined,
): Promise<void> {
  const { router } = context;
  const tenant = base.tenant;
  exchange.audit.action = "list";
  const secrets = await secretsOf(router, namespace, tenant, true);
  const rule = router.ruleFor(namespace, tenant);
  const backend = rule?.backend ?? "";
  const page = {
    ...base,
    tree: namespaceTree(context.rules, tenant, [namespace, ...secrets.map((s) => s.namespace)]),
  };
  sendHtml(
    exchange.response,
    200,
    namespacePage(page, {
      namespace,
      backend,
      backendType: context.backendTypes[backend],
      readOnly: isReadOnly(router, namespace, tenant),
      secrets,
      notice,
    }),
  );
}

async function login(exchange: Exchange, context: ServeContext): Promise<void> {
  const { response, method } = exchange;
  exchange.audit.action = "login";
  if (method === "GET") return sendHtml(response, 200, loginPage());
  if (method !== "POST")
    throw new HttpError(405, "METHOD_NOT_ALLOWED", "Use GET or POST.", { Allow: "GET, POST" });
  checkOrigin(exchange);
  const form = await readForm(exchange.request, 64 * 1024);
  if (!context.checkToken(form.get("token") ?? undefined)) {
    exchange.audit.outcome = "UNAUTHORIZED";
    return sendHtml(response, 401, loginPage("That token is not the server's token."));
  }
  const { id } = context.sessions.create();
  response.setHeader(
    "Set-Cookie",
    `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(context.sessions.ttlMs / 1000)}`,
  );
  redirect(response, "/console");
}

/**
 * Create (`mode=create`: refused when the key exists, with a link to edit it) or edit (`mode=edit`:
 * an empty value keeps the current one).
 */
async function save(
  exchange: Exchange,
  context: ServeContext,
  session: ConsoleSession,
  form: URLSearchParams,
): Promise<void> {
  const { router } = context;
  const tenant = form.get("tenant") ?? undefined;
  const namespace = form.get("ns") ?? "";
  const key = form.get("key") ?? "";
  const mode = form.get("mode");
  const value = form.get("value") ?? "";
  Object.assign(exchange.audit, { action: mode === "edit" ? "edit" : "create", tenant, namespace, key });
  const ref = validateRef({ tenant, namespace, key });
  const description = form.get("description") || undefined;
  const tags = parseTags(form.get("tags") ?? "");
  router.assertWritable(namespace, tenant);
  const metadata = { description, tags: Object.fromEntries(tags.map((t) => [t.key, t.value])) };
  if (mode === "edit" && value === "") {
    await patchMetadata(context, ref, { description, tags });
  } else if (value === "") {
    throw new HttpError(422, "INVALID_REQUEST", "The value is empty; nothing was written.");
  } else if (mode === "edit") {
    await router.put(ref, value, metadata);
  } else {
    try {
      await createSecret(context, ref, value, metadata);
    } catch (error) {
      if (!isSecretsError(error) || error.code !== "CONFLICT") throw error;
      exchange.audit.outcome = error.code;
      const base = pageContext(context, session, tenant, namespace);
      return sendHtml(exchange.response, 409, existsPage(base, namespace, ref.key));
    }
  }
  exchange.audit.outcome = "ok";
  redirect(exchange.response, consoleHref("/console", { tenant, ns: namespace, done: `Saved ${ref.key}.` }));
}

async function remove(exchange: Exchange, context: ServeContext, form: URLSearchParams): Promise<void> {
  const tenant = form.get("tenant") ?? undefined;
  const namespace = form.get("ns") ?? "";
  const key = form.get("key") ?? "";
  Object.assign(exchange.audit, { action: "delete", tenant, namespace, key });
  await context.router.delete(validateRef({ tenant, namespace, key }));
  exchange.audit.outcome = "ok";
  redirect(exchange.response, consoleHref("/console", { tenant, ns: namespace, done: `Deleted ${key}.` }));
}

/** `key=value` lines; a line without `=` is refused rather than guessed at. */
function parseTags(text: string): Array<{ key: string; value: string }> {
  const tags: Array<{ key: string; value: string }> = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new HttpError(422, "INVALID_REQUEST", "Write each tag as key=value on its own line.");
    tags.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  if (tags.length > 64) throw new HttpError(422, "INVALID_REQUEST", "At most 64 tags.");
  return tags;
}

/** A browser's cross-site post carries another Origin: refused even before the CSRF token is read. */
function checkOrigin(exchange: Exchange): void {
  const origin = exchange.request.headers.origin;
  const host = exchange.request.headers.host;
  if (origin !== undefined && origin !== "null" && origin !== `http://${host}`)
    throw new HttpError(403, "CSRF", "Cross-origin form posts are refused.");
}

function asset(response: ServerResponse, name: string | undefined): void {
  const body = name === "app.js" ? APP_JS : name === "style.css" ? STYLE_CSS : undefined;
  if (body === undefined) throw new HttpError(404, "NO_ROUTE", "No such asset.");
  response.writeHead(200, {
    ...BASE_HEADERS,
    "Content-Type": name === "app.js" ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  response.end(body);
}

function sendHtml(response: ServerResponse, status: number, page: Html): void {
  response.writeHead(status, {
    ...BASE_HEADERS,
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": CSP,
    "Content-Length": Buffer.byteLength(page.text),
  });
  response.end(page.text);
}

function redirect(response: ServerResponse, location: string): void {
  response.writeHead(303, { ...BASE_HEADERS, Location: location, "Content-Length": 0 });
  response.end();
}
