/**
 * The resolver agent: AWS Secrets Manager Agent's API with plain HTTP calls as AWS documents them
 * (curl with the token header), and Dapr's secrets API through the official `@dapr/dapr` client.
 */
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import { BackendUnavailableError, type SecretBackend } from "@keyway/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { jfetch, type Running, rawRequest, start, TOKEN } from "./helpers.js";

let running: Running;
beforeEach(async () => {
  running = await start();
});
afterEach(async () => {
  await running.close();
});

const aws = (
  secretId: string,
  headers: Record<string, string> = { "X-Aws-Parameters-Secrets-Token": TOKEN },
) => jfetch(`${running.url}/secretsmanager/get?secretId=${encodeURIComponent(secretId)}`, { headers });

describe("AWS Secrets Manager Agent API", () => {
  it("answers GetSecretValue's shape for <namespace>/<key>, inherited and cached", async () => {
    const response = await aws("company.team.deep/API_TOKEN");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ARN: "arn:keyway:secretsmanager:local:000000000000:secret:company.team.deep/API_TOKEN",
      Name: "company.team.deep/API_TOKEN",
      VersionId: "1",
      SecretString: "t0ken-value",
      VersionStages: ["AWSCURRENT"],
      CreatedDate: expect.any(Number),
    });
    const calls = running.router.stats().backendCalls;
    await aws("company.team.deep/API_TOKEN");
    expect(running.router.stats().backendCalls).toBe(calls);
    expect(running.events.at(-1)).toMatchObject({
      face: "aws-agent",
      action: "get",
      namespace: "company.team.deep",
      key: "API_TOKEN",
      status: 200,
      outcome: "ok",
      caller: { address: "127.0.0.1" },
    });
  });

  it("reads a tenant's secret as tenant:<tenant>/<namespace>/<key>, never the tenant-less one", async () => {
    await running.router.put({ tenant: "acme", namespace: "company", key: "SHARED" }, "acme-shared");
    await running.router.put({ tenant: "acme", namespace: "company.x", key: "K" }, "acme-k");
    const response = await aws("tenant:acme/company.x.deep/SHARED");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      Name: "tenant:acme/company.x.deep/SHARED",
      ARN: "arn:keyway:secretsmanager:local:000000000000:secret:tenant:acme/company.x.deep/SHARED",
      SecretString: "acme-shared",
    });
    expect((await (await aws("tenant:acme/company.x/K")).json()).SecretString).toBe("acme-k");
    expect(running.events.at(-1)).toMatchObject({ tenant: "acme", namespace: "company.x", key: "K" });
    // The tenant-less read of the same name is the other rule's.
    expect((await (await aws("company/SHARED")).json()).SecretString).toBe("shared-value");
    // The tenant-less K does not exist, and no tenant's secret answers for it.
    const missing = await aws("company.x/K");
    expect(missing.status).toBe(400);
    expect((await missing.json()).__type).toBe("ResourceNotFoundException");
    const cases: Array<[string, number]> = [
      ["tenant:acme", 400], // no namespace or key
      ["tenant:ACME/company/SHARED", 422], // not a tenant name
      ["tenant:/company/SHARED", 422], // an empty tenant is not "no tenant"
      ["tenant:acme/company/", 422], // an empty key
      ["tenant:acme/../company/SHARED", 422],
      ["tenant:acme/tenant:other/company/SHARED", 422],
      ["tenant:other/company/SHARED", 422], // no rule for that tenant
    ];
    for (const [secretId, status] of cases) {
      const refused = await aws(secretId);
      expect(refused.status, secretId).toBe(status);
      expect(await refused.text()).not.toContain("shared");
    }
  });

  it("sends binary values as SecretBinary and unicode text exactly", async () => {
    const text = 'pässwörd "quoted"\nline2 🔑';
    await running.router.put({ namespace: "company.team", key: "TEXT" }, text);
    await running.router.put({ namespace: "company.team", key: "BYTES" }, new Uint8Array([0, 255, 1]));
    expect((await (await aws("company.team/TEXT")).json()).SecretString).toBe(text);
    const bytes = await (await aws("company.team/BYTES")).json();
    expect(bytes.SecretBinary).toBe(Buffer.from([0, 255, 1]).toString("base64"));
    expect(bytes.SecretString).toBeUndefined();
  });

  it("refuses a missing or wrong token (403) and X-Forwarded-For (400), as AWS's agent does", async () => {
    expect((await aws("company.team/API_TOKEN", {})).status).toBe(403);
    const wrong = await aws("company.team/API_TOKEN", {
      "X-Aws-Parameters-Secrets-Token": "nope-nope-nope-nope",
    });
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).__type).toBe("AccessDeniedException");
    const forwarded = await aws("company.team/API_TOKEN", {
      "X-Aws-Parameters-Secrets-Token": TOKEN,
      "X-Forwarded-For": "10.0.0.1",
    });
    expect(forwarded.status).toBe(400);
    expect(await forwarded.text()).not.toContain("t0ken-value");
  });

  it("answers a missing secret with ResourceNotFoundException, an outage with 503, and never a value", async () => {
    const missing = await aws("company.team/NOPE");
    expect(missing.status).toBe(400);
    const body = await missing.json();
    expect(body.__type).toBe("ResourceNotFoundException");
    expect(body.message).toContain("NOPE");
    (running.backends.team as SecretBackend).get = async () => {
      throw new BackendUnavailableError("Backend 'team' is unavailable.", { backend: "team" });
    };
    running.router.invalidate({ namespace: "company.team", key: "OTHER" });
    const down = await aws("company.team/OTHER");
    expect(down.status).toBe(503);
    expect((await down.json()).__type).toBe("InternalServiceError");
    const bad = await rawRequest(running.url, "/secretsmanager/get?secretId=company..team/K", {
      headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
    });
    expect(bad.status).toBe(422);
    const stage = await rawRequest(
      running.url,
      "/secretsmanager/get?secretId=company/SHARED&versionStage=AWSPREVIOUS",
      {
        headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
      },
    );
    expect(stage.status).toBe(400);
  });
});

describe("Dapr secrets API with @dapr/dapr's DaprClient", () => {
  const client = () => {
    const { port } = new URL(running.url);
    return new DaprClient({
      daprHost: "127.0.0.1",
      daprPort: port,
      daprApiToken: TOKEN,
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      logger: { level: LogLevel.Error },
    });
  };

  it("reads one secret (store name = namespace), with metadata.namespace, and in bulk", async () => {
    const dapr = client();
    try {
      expect(await dapr.secret.get("company.team", "API_TOKEN")).toEqual({ API_TOKEN: "t0ken-value" });
      expect(await dapr.secret.get("any-store", "SHARED", "metadata.namespace=company.team")).toEqual({
        SHARED: "shared-value",
      });
      expect(await dapr.secret.getBulk("company.team")).toEqual({
        API_TOKEN: { API_TOKEN: "t0ken-value" },
        SHARED: { SHARED: "shared-value" },
      });
      expect(running.events.map((e) => `${e.face}:${e.action}:${e.status}`)).toEqual([
        "dapr-agent:metadata:200",
        "dapr-agent:get:200",
        "dapr-agent:get:200",
        "dapr-agent:bulk:200",
      ]);
    } finally {
      await dapr.stop();
    }
  });

  it("reads a tenant's secret with metadata.tenant, through the client and in bulk over HTTP", async () => {
    await running.router.put({ tenant: "acme", namespace: "company", key: "SHARED" }, "acme-shared");
    await running.router.put({ tenant: "acme", namespace: "company.x", key: "K" }, 'ünï "k"\n');
    const dapr = client();
    try {
      expect(await dapr.secret.get("company.x", "SHARED", "metadata.tenant=acme")).toEqual({
        SHARED: "acme-shared",
      });
      expect(
        await dapr.secret.get("any-store", "K", "metadata.namespace=company.x&metadata.tenant=acme"),
      ).toEqual({ K: 'ünï "k"\n' });
      // Without the tenant the same store and key are the tenant-less rule's.
      expect(await dapr.secret.get("company.x", "SHARED")).toEqual({ SHARED: "shared-value" });
      await expect(dapr.secret.get("company.x", "SHARED", "metadata.tenant=")).rejects.toThrow(
        /"status":422/,
      );
      await expect(dapr.secret.get("company.x", "SHARED", "metadata.tenant=Acme")).rejects.toThrow(
        /"status":422/,
      );
      expect(running.events.filter((e) => e.action === "get").map((e) => e.tenant)).toEqual([
        "acme",
        "acme",
        undefined,
        "",
        "Acme",
      ]);
    } finally {
      await dapr.stop();
    }
    const { port } = new URL(running.url);
    const bulk = await jfetch(`http://127.0.0.1:${port}/v1.0/secrets/company.x/bulk?metadata.tenant=acme`, {
      headers: { "dapr-api-token": TOKEN },
    });
    expect(await bulk.json()).toEqual({ K: { K: 'ünï "k"\n' }, SHARED: { SHARED: "acme-shared" } });
  });

  it("fails a missing secret with 404 and a wrong token with 401, through the client", async () => {
    const dapr = client();
    try {
      await expect(dapr.secret.get("company.team", "NOPE")).rejects.toThrow(/"status":404/);
      const { port } = new URL(running.url);
      const res = await jfetch(`http://127.0.0.1:${port}/v1.0/secrets/company.team/API_TOKEN`, {
        headers: { "dapr-api-token": "wrong-token-wrong-token" },
      });
      expect(res.status).toBe(401);
      expect((await res.json()).errorCode).toBe("ERR_UNAUTHORIZED");
    } finally {
      await dapr.stop();
    }
  });
});
