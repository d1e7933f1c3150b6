/** The console's pages, rendered on the server. No stored value is ever put in a page. */
import type { SecretSummary } from "../namespaces.js";
import { Html, html } from "./html.js";

/** What every signed-in page needs. */
export interface PageContext {
  readonly csrf: string;
  readonly tenant: string | undefined;
  readonly tenants: ReadonlyArray<string | undefined>;
  readonly tree: readonly string[];
  /** The namespace shown, if any. */
  readonly namespace?: string | undefined;
}

/** A link to a console page with the tenant kept. */
export function consoleHref(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/**
 * The page's one script, outside any tagged template: the bundler rewrites a tagged template that
 * holds a closing script tag into a call to a runtime helper package.
 */
const SCRIPT = new Html('<script src="/console/assets/app.js" defer></script>');

function layout(title: string, body: Html, page?: PageContext): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Keyway</title>
<link rel="stylesheet" href="/console/assets/style.css">
${SCRIPT}
</head>
<body>
<header><a href="/console">Keyway</a>${
    page &&
    html`<form method="post" action="/console/logout"><input type="hidden" name="csrf" value="${page.csrf}"><button type="submit">Log out</button></form>`
  }</header>
${page ? html`<div class="layout">${nav(page)}<main id="main">${body}</main></div>` : html`<main id="main">${body}</main>`}
</body>
</html>`;
}

function nav(page: PageContext): Html {
  const tenantLinks =
    page.tenants.length > 1 || page.tenants[0] !== undefined
      ? html`<h2 id="tenants-heading">Tenant</h2><p class="tenants" role="group" aria-labelledby="tenants-heading">${page.tenants.map(
          (t) =>
            html`<a href="${consoleHref("/console", { tenant: t })}" ${t === page.tenant ? html`aria-current="page"` : ""}>${t ?? "(none)"}</a>`,
        )}</p>`
      : "";
  return html`<nav aria-label="Namespaces">${tenantLinks}<h2 id="namespaces-heading">Namespaces</h2><ul aria-labelledby="namespaces-heading">${page.tree.map(
    (ns) =>
      html`<li><a href="${consoleHref("/console", { tenant: page.tenant, ns })}" ${ns === page.namespace ? html`aria-current="page"` : ""}>${ns}</a></li>`,
  )}</ul></nav>`;
}

export function loginPage(error?: string): Html {
  return layout(
    "Log in",
    html`<h1>Log in to Keyway</h1>
${error && html`<p class="error" role="alert">${error}</p>`}
<form class="card" method="post" action="/console/login">
<label for="token">Access token <span class="hint">(printed by keyway serve, or KEYWAY_SERVE_TOKEN)</span></label>
<input type="password" id="token" name="token" autocomplete="off" required autofocus>
<p><button class="primary" type="submit">Log in</button></p>
</form>`,
  );
}

export function homePage(page: PageContext): Html {
  return layout(
    "Namespaces",
    html`<h1>Namespaces</h1><p>Choose a namespace to see its secrets.</p>${
      page.tree.length === 0 && html`<p>No rule names a namespace yet: add one to keyway.yaml.</p>`
    }`,
    page,
  );
}

/** What the namespace page shows. */
export interface NamespaceView {
  readonly namespace: string;
  readonly backend: string;
  readonly backendType: string | undefined;
  readonly readOnly: boolean;
  readonly secrets: readonly SecretSummary[];
  readonly notice?: string | undefined;
}

export function namespacePage(page: PageContext, view: NamespaceView): Html {
  const { namespace, readOnly } = view;
  const served = view.backendType ? `${view.backend} (${view.backendType})` : view.backend;
  const rows = view.secrets.map((secret) => secretRow(page, namespace, secret, readOnly));
  return layout(
    `Secrets · ${namespace}`,
    html`<h1>${namespace}${readOnly && html`<span class="lock" role="img" aria-label="Read-only">🔒 Read-only</span>`}</h1>
<p class="served">Served by <strong>${served}</strong></p>
${view.notice && html`<p class="notice" role="status">${view.notice}</p>`}
<p id="status" role="status" aria-live="polite"></p>
<h2>Secrets</h2>
${
  view.secrets.length === 0
    ? html`<p>No secrets in this namespace or above it.</p>`
    : html`<table>
<caption class="hint">Values are write-only: they are never shown.</caption>
<thead><tr><th scope="col">Key</th><th scope="col">Description</th><th scope="col">Tags</th><th scope="col">From</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table>`
}
${readOnly ? html`<p class="hint">This namespace is read-only: secrets cannot be created, edited or deleted here.</p>` : createForm(page, namespace)}`,
    page,
  );
}

function secretRow(page: PageContext, namespace: string, secret: SecretSummary, readOnly: boolean): Html {
  const expression = `{{ secret('${secret.key}') }}`;
  const target = { tenant: page.tenant, ns: namespace, key: secret.key };
  const own = !secret.inherited;
  return html`<tr data-key="${secret.key}">
<th scope="row"><code>${secret.key}</code></th>
<td>${secret.description ?? ""}</td>
<td>${secret.tags.map((t) => html`<span class="tag">${t.key}=${t.value}</span>`)}</td>
<td>${
    own
      ? html`this namespace`
      : html`<span class="badge">inherited</span> from <a href="${consoleHref("/console", { tenant: page.tenant, ns: secret.namespace })}">${secret.namespace}</a>`
  }</td>
<td class="actions">
<button type="button" data-copy="${expression}" aria-label="Copy ${expression}">Copy</button>
${
  own &&
  !readOnly &&
  html`<a class="button" href="${consoleHref("/console/edit", target)}" aria-label="Edit ${secret.key}">Edit</a>
<a class="button" href="${consoleHref("/console/delete", target)}" aria-label="Delete ${secret.key}">Delete</a>`
}
</td>
</tr>`;
}

function tagsText(secret: SecretSummary | undefined): string {
  return (secret?.tags ?? []).map((t) => `${t.key}=${t.value}`).join("\n");
}

function createForm(page: PageContext, namespace: string): Html {
  return html`<form class="card" method="post" action="/console/secrets" aria-labelledby="create-title">
<h2 id="create-title">Create a secret</h2>
${hidden(page, namespace)}
<input type="hidden" name="mode" value="create">
<label for="key">Key</label>
<input type="text" id="key" name="key" required pattern="[A-Za-z0-9_\\-]{1,255}" autocomplete="off" spellcheck="false">
<label for="value">Value <span class="hint">(write-only: never shown again)</span></label>
<textarea id="value" name="value" rows="3" required autocomplete="off" spellcheck="false"></textarea>
<label for="description">Description</label>
<input type="text" id="description" name="description" autocomplete="off">
<label for="tags">Tags <span class="hint">(one key=value a line)</span></label>
<textarea id="tags" name="tags" rows="2" spellcheck="false"></textarea>
<p><button class="primary" type="submit">Create</button></p>
</form>`;
}

function hidden(page: PageContext, namespace: string): Html {
  return html`<input type="hidden" name="csrf" value="${page.csrf}">
<input type="hidden" name="ns" value="${namespace}">
${page.tenant !== undefined && html`<input type="hidden" name="tenant" value="${page.tenant}">`}`;
}

export function editPage(page: PageContext, namespace: string, secret: SecretSummary): Html {
  return layout(
    `Edit ${secret.key}`,
    html`<h1>Edit <code>${secret.key}</code></h1>
<form class="card" method="post" action="/console/secrets">
${hidden(page, namespace)}
<input type="hidden" name="mode" value="edit">
<input type="hidden" name="key" value="${secret.key}">
<label for="value">New value <span class="hint">(write-only; leave empty to keep the current value)</span></label>
<textarea id="value" name="value" rows="3" autocomplete="off" spellcheck="false"></textarea>
<label for="description">Description</label>
<input type="text" id="description" name="description" value="${secret.description ?? ""}" autocomplete="off">
<label for="tags">Tags <span class="hint">(one key=value a line)</span></label>
<textarea id="tags" name="tags" rows="2" spellcheck="false">${tagsText(secret)}</textarea>
<p><button class="primary" type="submit">Save</button> <a class="button" href="${consoleHref("/console", { tenant: page.tenant, ns: namespace })}">Cancel</a></p>
</form>`,
    page,
  );
}

export function deletePage(page: PageContext, namespace: string, key: string): Html {
  return layout(
    `Delete ${key}`,
    html`<h1>Delete <code>${key}</code>?</h1>
<form class="card" method="post" action="/console/delete" role="alertdialog" aria-labelledby="confirm-text">
${hidden(page, namespace)}
<input type="hidden" name="key" value="${key}">
<p id="confirm-text">Delete the secret <code>${key}</code> from namespace <strong>${namespace}</strong>? Flows that use it will fail.</p>
<p><button class="danger" type="submit">Delete ${key}</button> <a class="button" href="${consoleHref("/console", { tenant: page.tenant, ns: namespace })}" autofocus>Cancel</a></p>
</form>`,
    page,
  );
}

/** The console's Create refused: the key exists in the namespace. Offers its Edit page instead. */
export function existsPage(page: PageContext, namespace: string, key: string): Html {
  const target = { tenant: page.tenant, ns: namespace, key };
  return layout(
    `${key} exists`,
    html`<h1>Not created</h1>
<p class="error" role="alert">A secret <code>${key}</code> already exists in namespace <strong>${namespace}</strong>: nothing was written, and its value is unchanged.</p>
<p><a class="button primary" href="${consoleHref("/console/edit", target)}">Edit ${key}</a> <a class="button" href="${consoleHref("/console", { tenant: page.tenant, ns: namespace })}">Back to ${namespace}</a></p>`,
    page,
  );
}

export function errorPage(status: number, message: string, page?: PageContext): Html {
  return layout(
    `Error ${status}`,
    html`<h1>Error ${status}</h1><p class="error" role="alert">${message}</p><p><a href="/console">Back to the console</a></p>`,
    page,
  );
}
