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
