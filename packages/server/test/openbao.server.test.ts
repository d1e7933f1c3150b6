/**
 * End to end against a real OpenBao: keyway.yaml with a vault backend → the router → keyway serve.
 * A secret written through the Kestra-shaped API lands in OpenBao's KV (read back with OpenBao's
 * own API), and Dapr's client and an AWS-agent call read it back through the agent.
 */
import { randomBytes } from "node:crypto";
import { CommunicationProtocolEnum, DaprClient, LogLevel } from "@dapr/dapr";
import { createRouterFromConfig, parseConfig } from "@keyway/core/config";
import { serverFromEnv } from "@keyway/test-servers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createKeywayServer, type KeywayServer } from "../src/index.js";
import { jfetch, TOKEN } from "./helpers.js";

const bao = inject("keywayServers")?.openbao ?? serverFromEnv("openbao");
const prefix = `keyway-serve-${randomBytes(4).toString("hex")}`;
let server: KeywayServer;
let url: string;
let close: () => Promise<void>;

beforeAll(async () => {
  if (!bao) throw new Error("OpenBao is not running: the serve project's globalSetup starts it.");
  const parsed = parseConfig(
    `backends:
  bao: { type: vault, endpoint: "${bao.endpoint}", auth: { method: token, token: "\${BAO_TOKEN}" }, prefix: ${prefix} }
namespaces:
  - match: company
    backend: bao
`,
    { env: { BAO_TOKEN: bao.extra.rootToken ?? "root" } },
  );
  const router = await createRouterFromConfig(parsed, { env: {}, strict: true });
  server = createKeywayServer({
    router,
    rules: parsed.config.namespaces,
    token: TOKEN,
    port: 0,
    backendTypes: { bao: "vault" },
  });
  ({ url } = await server.listen());
  await router.prepare();
  server.ready();
  close = async () => {
    await server.close();
    await router.close();
  };
});
afterAll(async () => {
  await close?.();
});

describe("keyway serve over OpenBao", () => {
  it("writes through the API into OpenBao and reads back through both agent APIs", async () => {
    const value = 'p@ss "wörd"\nline2';
    const put = await jfetch(`${url}/api/v1/namespaces/company.team/secrets`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        key: "DB_PASSWORD",
        value,
        description: "orders",
        tags: [{ key: "env", value: "prod" }],
      }),
    });
    expect(put.status).toBe(200);

    const listed = await jfetch(`${url}/api/v1/namespaces/company.team/secrets`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect((await listed.json()).results).toEqual([
      {
        key: "DB_PASSWORD",
        description: "orders",
        tags: [{ key: "env", value: "prod" }],
        namespace: "company.team",
        backend: "bao",
      },
    ]);
    // OpenBao's own API lists something under the run's prefix: the write reached the server.
    const raw = await jfetch(`${bao?.endpoint}/v1/secret/metadata/${prefix}?list=true`, {
      headers: { "X-Vault-Token": bao?.extra.rootToken ?? "root" },
    });
    expect(raw.status).toBe(200);
    expect((await raw.json()).data.keys.length).toBeGreaterThan(0);

    const aws = await jfetch(`${url}/secretsmanager/get?secretId=company.team.deep/DB_PASSWORD`, {
      headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
    });
    expect((await aws.json()).SecretString).toBe(value);

    const dapr = new DaprClient({
      daprHost: "127.0.0.1",
      daprPort: new URL(url).port,
      daprApiToken: TOKEN,
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      logger: { level: LogLevel.Error },
    });
    try {
      expect(await dapr.secret.get("company.team", "DB_PASSWORD")).toEqual({ DB_PASSWORD: value });
    } finally {
      await dapr.stop();
    }

    const deleted = await jfetch(`${url}/api/v1/namespaces/company.team/secrets/DB_PASSWORD`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(204);
    const gone = await jfetch(`${url}/secretsmanager/get?secretId=company.team/DB_PASSWORD`, {
      headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
    });
    expect((await gone.json()).__type).toBe("ResourceNotFoundException");
  });
});
