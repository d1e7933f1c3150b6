/** The Kestra-shaped API over HTTP: routes with and without tenant, paging, errors by class, never a value. */
import type { SecretBackend } from "@keyway/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bearer, jfetch, jsonBearer, type Running, rawRequest, start } from "./helpers.js";

let running: Running;
beforeEach(async () => {
  running = await start();
});
afterEach(async () => {
  await running.close();
});

const call = (path: string, init: RequestInit = {}) => jfetch(`${running.url}${path}`, init);
const put = (path: string, body: unknown) =>
  call(path, { method: "PUT", headers: jsonBearer, body: JSON.stringify(body) });

describe("keyway serve API", () => {
  it("answers /ping without a token once ready, and 503 before", async () => {
    expect((await call("/ping")).status).toBe(200);
    const { createKeywayServer } = await import("../src/index.js");
    const early = createKeywayServer({ router: running.router, rules: [], token: "x".repeat(32), port: 0 });
    const { url } = await early.listen();
    try {
      expect((await fetch(`${url}/ping`)).status).toBe(503);
    } finally {
      await early.close();
    }
  });

  it("refuses a missing or wrong token with 401, audited", async () => {
    const none = await call("/api/v1/namespaces/company.team/secrets");
    expect(none.status).toBe(401);
    const wrong = await call("/api/v1/namespaces/company.team/secrets", {
      headers: { authorization: "Bearer test-token-0123456789abcdeX" },
    });
    expect(wrong.status).toBe(401);
    expect((await wrong.json()).code).toBe("UNAUTHORIZED");
    expect(running.events.at(-1)).toMatchObject({ face: "api", status: 401, outcome: "UNAUTHORIZED" });
  });

  it("creates, lists (paged, with metadata, never a value), patches and deletes", async () => {
    const value = "multi\nline \"quoted\" ünïcödé ${x} {{ secret('Y') }}";
    const created = await put("/api/v1/namespaces/company.team/secrets", {
      key: "DB_PASSWORD",
      value,
      description: "The database",
      tags: [{ key: "team", value: "payments" }],
    });
    expect(created.status).toBe(200);
    expect(await created.json()).toEqual({
      key: "DB_PASSWORD",
      description: "The database",
      tags: [{ key: "team", value: "payments" }],
      namespace: "company.team",
      backend: "team",
    });
    const value2 = await running.router.resolve({ namespace: "company.team", key: "DB_PASSWORD" });
    expect(value2.reveal()).toBe(value);

    const listed = await call("/api/v1/namespaces/company.team/secrets?page=1&size=1", { headers: bearer });
    const body = await listed.text();
    expect(body).not.toContain("t0ken-value");
    expect(body).not.toContain("multi");
    expect(JSON.parse(body)).toEqual({
      readOnly: false,
      total: 2,
      results: [{ key: "API_TOKEN", tags: [], namespace: "company.team", backend: "team" }],
    });
    const page2 = await (
      await call("/api/v1/namespaces/company.team/secrets?page=2&size=1", { headers: bearer })
    ).json();
    expect(page2.results.map((r: { key: string }) => r.key)).toEqual(["DB_PASSWORD"]);

    const patched = await call("/api/v1/namespaces/company.team/secrets/DB_PASSWORD", {
      method: "PATCH",
      headers: jsonBearer,
      body: JSON.stringify({ description: "Renamed" }),
    });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({
      description: "Renamed",
      tags: [{ key: "team", value: "payments" }],
    });
    expect((await running.router.resolve({ namespace: "company.team", key: "DB_PASSWORD" })).reveal()).toBe(
      value,
    );

    const deleted = await call("/api/v1/namespaces/company.team/secrets/DB_PASSWORD", {
      method: "DELETE",
      headers: bearer,
    });
    expect(deleted.status).toBe(204);
    const again = await call("/api/v1/namespaces/company.team/secrets/DB_PASSWORD", {
      method: "DELETE",
      headers: bearer,
    });
    expect(again.status).toBe(404);
    expect((await again.json()).code).toBe("NOT_FOUND");
    expect(running.events.map((e) => e.action)).toEqual(["put", "list", "list", "patch", "delete", "delete"]);
    expect(running.events[0]).toMatchObject({
      face: "api",
      namespace: "company.team",
      key: "DB_PASSWORD",
      status: 200,
      caller: { address: "127.0.0.1" },
    });
    expect(JSON.stringify(running.events)).not.toContain("multi");
  });

  /** Makes the next read of the team backend let another writer put `value` before it answers. */
  const slipWriteAfterNextRead = (key: string, value: string) => {
    const team = running.backends.team as SecretBackend;
    const get = team.get.bind(team);
    team.get = async (ref, options) => {
      const read = await get(ref, options);
      team.get = get;
      await team.put?.({ namespace: "company.team", key }, value);
      return read;
    };
  };
  const current = async (key: string) => {
    running.router.invalidate({ namespace: "company.team", key });
    return (await running.router.resolve({ namespace: "company.team", key }, { inherit: false })).reveal();
  };
  const patch = (key: string, body: unknown) =>
    call(`/api/v1/namespaces/company.team/secrets/${key}`, {
      method: "PATCH",
      headers: jsonBearer,
      body: JSON.stringify(body),
    });

  it("PATCH is a compare-and-set: a write between its read and its write is a 409, not a lost update", async () => {
    slipWriteAfterNextRead("API_TOKEN", "rotated-meanwhile");
    const response = await patch("API_TOKEN", { description: "Renamed" });
    expect(response.status).toBe(409);
    const body = await response.json();
    expect(body.code).toBe("CONFLICT");
    expect(JSON.stringify(body)).not.toContain("rotated-meanwhile");
    expect(JSON.stringify(body)).not.toContain("t0ken-value");
    expect(await current("API_TOKEN")).toBe("rotated-meanwhile");
    // Without a race the same PATCH goes through, the value kept.
    expect((await patch("API_TOKEN", { description: "Renamed" })).status).toBe(200);
    expect(await current("API_TOKEN")).toBe("rotated-meanwhile");
    expect(running.events.at(-2)).toMatchObject({ action: "patch", status: 409, outcome: "CONFLICT" });
  });

  it("PATCH on a backend the server does not know to compare-and-set reads and writes back, as before", async () => {
    await running.close();
    running = await start({ backends: {} });
    expect((await patch("API_TOKEN", { tags: [{ key: "a", value: "b" }] })).status).toBe(200);
    expect(await current("API_TOKEN")).toBe("t0ken-value");
  });

  it("keeps PUT create-or-update (Kestra's), with If-None-Match: * as a create that refuses an existing key", async () => {
    const createOnly = (key: string, value: string, ifNoneMatch = "*") =>
      call("/api/v1/namespaces/company.team/secrets", {
        method: "PUT",
        headers: { ...jsonBearer, "if-none-match": ifNoneMatch },
        body: JSON.stringify({ key, value }),
      });
    expect(
      (await put("/api/v1/namespaces/company.team/secrets", { key: "API_TOKEN", value: "v2" })).status,
    ).toBe(200);
    expect(await current("API_TOKEN")).toBe("v2");
    const exists = await createOnly("API_TOKEN", "v3");
    expect(exists.status).toBe(409);
    expect(await exists.json()).toEqual({
      code: "CONFLICT",
      message: "Secret 'API_TOKEN' already exists in namespace 'company.team'; nothing was written.",
    });
    expect(await current("API_TOKEN")).toBe("v2");
    // An inherited key is not this namespace's: creating one here is allowed.
    expect((await createOnly("SHARED", "own-shared")).status).toBe(200);
    expect(await current("SHARED")).toBe("own-shared");
    expect((await createOnly("NEW_KEY", "fresh")).status).toBe(200);
    const etag = await createOnly("OTHER", "x", '"abc"');
    expect(etag.status).toBe(422);
    await expect(current("OTHER")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(running.events.map((e) => `${e.action}:${e.status}`)).toEqual([
      "put:200",
      "create:409",
      "create:200",
      "create:200",
      "put:422",
    ]);
  });

  it("a create without compare-and-set looks first, and still refuses an existing key", async () => {
    await running.close();
    running = await start({ backends: {} });
    const response = await call("/api/v1/namespaces/company.team/secrets", {
      method: "PUT",
      headers: { ...jsonBearer, "if-none-match": "*" },
      body: JSON.stringify({ key: "API_TOKEN", value: "other" }),
    });
    expect(response.status).toBe(409);
    expect((await response.json()).message).toBe(
      "Secret 'API_TOKEN' already exists in namespace 'company.team'; nothing was written.",
    );
    expect(await current("API_TOKEN")).toBe("t0ken-value");
  });

  it("serves the tenant form of every path", async () => {
    expect((await put("/api/v1/acme/namespaces/company.x/secrets", { key: "K", value: "v" })).status).toBe(
      200,
    );
    const listed = await (
      await call("/api/v1/acme/namespaces/company.x/secrets", { headers: bearer })
    ).json();
    expect(listed.results).toEqual([{ key: "K", tags: [], namespace: "company.x", backend: "acme" }]);
    expect(await running.router.resolve({ tenant: "acme", namespace: "company.x", key: "K" })).toBeTruthy();
    // Without the tenant the same namespace is another rule's.
    const plain = await (await call("/api/v1/namespaces/company.x/secrets", { headers: bearer })).json();
    expect(plain.results).toEqual([]);
  });

  it("lists inherited secrets by the namespace they come from", async () => {
    const response = await call("/api/v1/namespaces/company.team.a/inherited-secrets", { headers: bearer });
    expect(await response.json()).toEqual({ "company.team": ["API_TOKEN"], company: ["SHARED"] });
  });

  it("maps errors by class: read-only 403, invalid 422, no rule 422, missing 404, unavailable 503", async () => {
    const ro = await put("/api/v1/namespaces/company.ro/secrets", { key: "K", value: "v" });
    expect(ro.status).toBe(403);
    expect(await ro.json()).toEqual({
      code: "READ_ONLY",
      message: "Namespace 'company.ro' is read-only (rule 'company.ro').",
    });
    const listedRo = await (await call("/api/v1/namespaces/company.ro/secrets", { headers: bearer })).json();
    expect(listedRo.readOnly).toBe(true);
    const badKey = await put("/api/v1/namespaces/company.team/secrets", { key: "bad key!", value: "v" });
    expect(badKey.status).toBe(422);
    expect((await badKey.json()).code).toBe("INVALID_REFERENCE");
    const noRule = await call("/api/v1/namespaces/elsewhere/secrets", { headers: bearer });
    expect(noRule.status).toBe(422);
    expect((await noRule.json()).code).toBe("CONFIGURATION");
    const missing = await call("/api/v1/namespaces/company.team/secrets/NOPE", {
      method: "PATCH",
      headers: jsonBearer,
      body: "{}",
    });
    expect(missing.status).toBe(404);
    (running.backends.team as SecretBackend).list = async () => {
      const { BackendUnavailableError } = await import("@keyway/core");
      throw new BackendUnavailableError("Backend 'team' is unavailable.", { backend: "team" });
    };
    const down = await call("/api/v1/namespaces/company.team/secrets", { headers: bearer });
    expect(down.status).toBe(503);
    expect((await down.json()).code).toBe("UNAVAILABLE");
  });

  it("refuses hostile input with a typed 4xx and writes nothing", async () => {
    const before = await running.router.list("company.team");
    const cases: Array<[string, RequestInit, number]> = [
      [
        "/api/v1/namespaces/company.team/secrets",
        { method: "PUT", headers: jsonBearer, body: "{not json" },
        400,
      ],
      ["/api/v1/namespaces/company.team/secrets", { method: "PUT", headers: bearer, body: "{}" }, 415],
      [
        "/api/v1/namespaces/company.team/secrets",
        { method: "PUT", headers: jsonBearer, body: JSON.stringify({ key: "K", value: 42 }) },
        422,
      ],
      [
        "/api/v1/namespaces/company.team/secrets",
        { method: "PUT", headers: jsonBearer, body: JSON.stringify({ key: "K", value: "v", extra: 1 }) },
        422,
      ],
      [
        "/api/v1/namespaces/company.team/secrets",
        {
          method: "PUT",
          headers: jsonBearer,
          body: JSON.stringify({ key: "K", value: "x".repeat(2 * 1024 * 1024) }),
        },
        413,
      ],
      [
        "/api/v1/namespaces/company.team%2F..%2Fro/secrets",
        { method: "PUT", headers: jsonBearer, body: "{}" },
        400,
      ],
      ["/api/v1/namespaces/company.team/secrets/..", { method: "DELETE", headers: bearer }, 400],
      ["/api/v1/namespaces/company.team/secrets/%2e%2e", { method: "DELETE", headers: bearer }, 400],
      ["/api/v1/namespaces/company.team/secrets/A%2FB", { method: "DELETE", headers: bearer }, 400],
      ["/api/v1/namespaces/company.team/secrets/A%00B", { method: "DELETE", headers: bearer }, 400],
      ["/api/v1/namespaces/company.team/secrets/%E0%A4%A", { method: "DELETE", headers: bearer }, 400],
      ["/api/v1/namespaces/company..team/secrets", { headers: bearer }, 422],
      ["/api/v1/namespaces/company.team/secrets?size=100000", { headers: bearer }, 422],
      ["/api/v1/namespaces/company.team/secrets", { method: "POST", headers: bearer }, 405],
    ];
    for (const [path, init, status] of cases) {
      const response = await rawRequest(running.url, path, {
        method: init.method,
        headers: init.headers as Record<string, string>,
        body: init.body as string | undefined,
      });
      expect(response.status, `${init.method ?? "GET"} ${path}`).toBe(status);
      const body = JSON.parse(response.body);
      expect(typeof body.code).toBe("string");
      expect(typeof body.message).toBe("string");
    }
    expect(await running.router.list("company.team")).toEqual(before);
  });

  it("answers 431 to a huge header and 429 past the rate limit", async () => {
    const huge = await call("/api/v1/namespaces/company.team/secrets", {
      headers: { ...bearer, "x-filler": "a".repeat(32 * 1024) },
    });
    expect(huge.status).toBe(431);
    await running.close();
    running = await start({ rateLimit: { perSecond: 1, burst: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await call("/api/v1/namespaces/company.team/secrets", { headers: bearer })).status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await call("/api/v1/namespaces/company.team/secrets", { headers: bearer });
    expect(limited.headers.get("retry-after")).toBe("1");
  });
});
