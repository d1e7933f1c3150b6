// The AWS backend against moto: read-only modes, credentials (static, STS role, a real auth
// failure), and the transport (timeouts, aborts, a server that is not there).
import { createServer, type Server, type Socket } from "node:net";
import { CreateSecretCommand, type Tag } from "@aws-sdk/client-secrets-manager";
import { printedForms } from "@keyway/backend-test-suite";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  SecretNotFoundError,
  type SecretValue,
} from "@keyway/core";
import { isInstalled, type RunningServer, startServer } from "@keyway/test-servers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend } from "../src/index.js";
import { countingClient, endpoint, moto, options, region, run } from "./moto.js";

describe.skipIf(!moto)("aws backend on moto: modes, credentials, transport", () => {
  let raw: ReturnType<typeof countingClient>;
  beforeAll(() => {
    raw = countingClient();
  });
  afterAll(() => raw.client.destroy());

  const create = (Name: string, SecretString: string, tags: Record<string, string> = {}) => {
    const Tags: Tag[] = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    return raw.client.send(new CreateSecretCommand({ Name, SecretString, Tags }));
  };

  describe("read-only", () => {
    it("names: reads Keyway's names written by someone else, and cannot write", async () => {
      const prefix = `kw-ro-${run}`;
      await createAwsBackend(options({ prefix })).put?.(
        { namespace: "team", key: "TOKEN" },
        "from terraform",
      );
      const ro = createAwsBackend(options({ prefix, readOnly: { match: "names" } }));
      expect(ro.capabilities.write).toBe(false);
      expect(ro.put).toBeUndefined();
      expect(ro.delete).toBeUndefined();
      expect(ro.capabilities.batch).toBe(true);
      expect((await ro.get({ namespace: "team", key: "TOKEN" })).reveal()).toBe("from terraform");
      expect((await ro.list?.("team"))?.map((l) => l.key)).toEqual(["TOKEN"]);
    });

    it("tags: finds secrets of any name by their keyway tags, exactly", async () => {
      const ns = `company.team${run}`;
      const kestraTags = { "keyway:namespace": ns, "keyway:key": "DB_PASSWORD", app: "kestra" };
      await create(`ext-${run}/database/password`, "tagged", { ...kestraTags, owner: "ops" });
      // Decoys: another namespace, a prefix of the key, a tenant, and one without the app tag.
      await create(`ext-${run}/other-ns`, "decoy-ns", { ...kestraTags, "keyway:namespace": `${ns}.child` });
      await create(`ext-${run}/longer-key`, "decoy-key", { ...kestraTags, "keyway:key": "DB_PASSWORD_OLD" });
      await create(`ext-${run}/tenant`, "decoy-tenant", { ...kestraTags, "keyway:tenant": "acme" });
      await create(`ext-${run}/no-app`, "decoy-app", { "keyway:namespace": ns, "keyway:key": "API_KEY" });

      const ro = createAwsBackend(options({ readOnly: { match: "tags", tags: { app: "kestra" } } }));
      expect(ro.capabilities).toMatchObject({ write: false, batch: false, versions: true });
      expect(ro.getMany).toBeUndefined();
      expect((await ro.get({ namespace: ns, key: "DB_PASSWORD" })).reveal()).toBe("tagged");
      expect((await ro.get({ tenant: "acme", namespace: ns, key: "DB_PASSWORD" })).reveal()).toBe(
        "decoy-tenant",
      );
      await expect(ro.get({ namespace: ns, key: "API_KEY" })).rejects.toBeInstanceOf(SecretNotFoundError);
      await expect(ro.get({ namespace: ns, key: "DB_PASS" })).rejects.toBeInstanceOf(SecretNotFoundError);
      const listed = (await ro.list?.(ns)) ?? [];
      expect(listed.map((l) => l.key)).toEqual(["DB_PASSWORD", "DB_PASSWORD_OLD"]);
      expect(listed[0]?.metadata.tags).toEqual({ app: "kestra", owner: "ops" });

      // Without the extra tag filter, API_KEY is visible; two secrets for one ref are an error.
      const any = createAwsBackend(options({ readOnly: { match: "tags" } }));
      expect((await any.get({ namespace: ns, key: "API_KEY" })).reveal()).toBe("decoy-app");
      await create(`ext-${run}/duplicate`, "dup", { "keyway:namespace": ns, "keyway:key": "API_KEY" });
      await expect(any.get({ namespace: ns, key: "API_KEY" })).rejects.toBeInstanceOf(ConfigurationError);
    });

    it("prefix: `<namePrefix><KEY>` serves KEY in every namespace (Kestra's filterOnPrefix)", async () => {
      const namePrefix = `kestra_${run}_`;
      await create(`${namePrefix}SMTP_PASSWORD`, "smtp");
      await create(`${namePrefix}nested/NOT_A_KEY`, "ignored");
      const ro = createAwsBackend(options({ readOnly: { match: "prefix", namePrefix } }));
      expect((await ro.get({ namespace: "any.where", key: "SMTP_PASSWORD" })).reveal()).toBe("smtp");
      expect((await ro.get({ namespace: "", key: "SMTP_PASSWORD" })).reveal()).toBe("smtp");
      const many = await ro.getMany?.([{ namespace: "x", key: "SMTP_PASSWORD" }]);
      expect(([...(many?.values() ?? [])][0] as SecretValue).reveal()).toBe("smtp");
      expect((await ro.list?.("x"))?.map((l) => l.key)).toEqual(["SMTP_PASSWORD"]);
    });
  });

  describe("credentials", () => {
    it("assumes a role through STS (fromTemporaryCredentials) before reading", async () => {
      const prefix = `kw-sts-${run}`;
      await createAwsBackend(options({ prefix })).put?.({ namespace: "", key: "VIA_ROLE" }, "role ok");
      const viaRole = createAwsBackend(
        options({
          prefix,
          credentials: {
            type: "assumeRole",
            roleArn: "arn:aws:iam::123456789012:role/keyway-reader",
            stsEndpoint: endpoint,
            source: { type: "static", accessKeyId: "test", secretAccessKey: "test" },
          },
        }),
      );
      await viaRole.prepare?.();
      expect((await viaRole.get({ namespace: "", key: "VIA_ROLE" })).reveal()).toBe("role ok");
      await viaRole.close?.();
    });

    // Needs moto installed here (it starts its own): skipped against an external server alone.
    describe.skipIf(!isInstalled("moto"))("against a moto that checks signatures", () => {
      // A second moto with authentication on after two free calls, which create an IAM user
      // without any policy and its access key: real denials, not simulated ones.
      let authMoto: RunningServer;
      let user: { accessKeyId: string; secretAccessKey: string };
      const DISTINCT = "kwSECRETkey-do-not-leak-0123456789abcdefgh";
      beforeAll(async () => {
        authMoto = await startServer("moto", { env: { INITIAL_NO_AUTH_ACTION_COUNT: "2" } });
        const iam = async (params: Record<string, string>) => {
          const body = new URLSearchParams({ Version: "2010-05-08", ...params });
          const res = await fetch(`${authMoto.endpoint}/`, {
            method: "POST",
            headers: {
              "content-type": "application/x-www-form-urlencoded",
              authorization:
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/iam/aws4_request",
            },
            body,
          });
          return res.text();
        };
        await iam({ Action: "CreateUser", UserName: `keyway-${run}` });
        const xml = await iam({ Action: "CreateAccessKey", UserName: `keyway-${run}` });
        user = {
          accessKeyId: xml.match(/<AccessKeyId>([^<]+)</)?.[1] ?? "",
          secretAccessKey: xml.match(/<SecretAccessKey>([^<]+)</)?.[1] ?? "",
        };
      }, 60_000);
      afterAll(() => authMoto?.stop());

      const backendWith = (accessKeyId: string, secretAccessKey: string) =>
        createAwsBackend({
          region,
          endpoint: authMoto.endpoint,
          prefix: `kw-${run}`,
          credentials: { type: "static", accessKeyId, secretAccessKey },
        });

      it("a user without permission is AccessDeniedError, never not found", async () => {
        expect(user.accessKeyId).toMatch(/^AKIA/);
        const error = await backendWith(user.accessKeyId, user.secretAccessKey)
          .get({ namespace: "", key: "ANY" })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect(printedForms(error)).not.toContain(user.secretAccessKey);
      });

      it("a wrong secret key is AccessDeniedError, and the key never appears in the error", async () => {
        const backend = backendWith(user.accessKeyId, DISTINCT);
        for (const call of [
          () => backend.get({ namespace: "", key: "ANY" }),
          () => backend.put?.({ namespace: "", key: "ANY" }, "v") ?? Promise.resolve(),
          () => backend.list?.("") ?? Promise.resolve(),
          async () => {
            const result = await backend.getMany?.([{ namespace: "", key: "ANY" }]);
            throw [...(result?.values() ?? [])][0];
          },
        ]) {
          const error = await call().catch((e: unknown) => e);
          expect(error).toBeInstanceOf(AccessDeniedError);
          const printed = printedForms(error);
          expect(printed).not.toContain(DISTINCT);
          expect(printed).not.toContain(DISTINCT.slice(0, 16));
        }
      });

      it("an unknown access key is AccessDeniedError without the secret key", async () => {
        const error = await backendWith("AKIAKEYWAYUNKNOWN000", DISTINCT)
          .get({ namespace: "", key: "ANY" })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AccessDeniedError);
        expect(printedForms(error)).not.toContain(DISTINCT);
      });
    });
  });

  describe("transport", () => {
    let blackhole: Server;
    let blackholeUrl: string;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      // Accepts connections and never answers.
      blackhole = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
      const address = blackhole.address();
      blackholeUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => blackhole.close(() => resolve()));
    });

    it("requestTimeoutMs ends a request that gets no answer: BackendUnavailableError", async () => {
      const backend = createAwsBackend(options({ endpoint: blackholeUrl, requestTimeoutMs: 300 }));
      const started = Date.now();
      const error = await backend.get({ namespace: "", key: "SLOW" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
      await backend.close?.();
    });

    it("prepare assumes the role up front: an STS that never answers fails it, typed", async () => {
      const backend = createAwsBackend(
        options({
          requestTimeoutMs: 300,
          credentials: {
            type: "assumeRole",
            roleArn: "arn:aws:iam::123456789012:role/keyway-reader",
            stsEndpoint: blackholeUrl,
            source: { type: "static", accessKeyId: "test", secretAccessKey: "test" },
          },
        }),
      );
      await expect(backend.prepare?.()).rejects.toBeInstanceOf(BackendUnavailableError);
      await backend.close?.();
    });

    it("the caller's AbortSignal ends a request: BackendUnavailableError, never not found", async () => {
      const backend = createAwsBackend(options({ endpoint: blackholeUrl, requestTimeoutMs: 60_000 }));
      const started = Date.now();
      const error = await backend
        .get({ namespace: "", key: "ABORTED" }, { signal: AbortSignal.timeout(200) })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect(Date.now() - started).toBeLessThan(5_000);
      await backend.close?.();
    });

    it("a server that is not there is BackendUnavailableError, in get, list and getMany", async () => {
      const backend = createAwsBackend(options({ endpoint: "http://127.0.0.1:1" }));
      const ref = { namespace: "", key: "DOWN" };
      await expect(backend.get(ref)).rejects.toBeInstanceOf(BackendUnavailableError);
      await expect(backend.list?.("")).rejects.toBeInstanceOf(BackendUnavailableError);
      expect((await backend.getMany?.([ref]))?.get(ref)).toBeInstanceOf(BackendUnavailableError);
    });
  });
});
