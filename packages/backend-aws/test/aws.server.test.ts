// The AWS backend against a real Secrets Manager API: moto, started by this project's globalSetup,
// or an external server given by KEYWAY_TEST_MOTO_ENDPOINT (the motoserver/moto or LocalStack
// image). Managed mode: the shared contract, then what is particular to AWS.
import {
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
} from "@aws-sdk/client-secrets-manager";
import { defineBackendContract, printedForms, seedByPut } from "@keyway/backend-test-suite";
import {
  InvalidReferenceError,
  InvalidSecretValueError,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  type SecretValue,
} from "@keyway/core";
import * as vitest from "vitest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAwsBackend, secretName } from "../src/index.js";
import { countingClient, inParallel, moto, options, run } from "./moto.js";

describe.skipIf(!moto)("aws backend on moto", () => {
  defineBackendContract(vitest, "aws", { create: (seed) => seedByPut(createAwsBackend(options()), seed) });

  let backend: SecretBackend;
  let raw: ReturnType<typeof countingClient>;
  const ref = (key: string, namespace = `aws.r${run}`): SecretRef => ({ namespace, key });
  beforeAll(() => {
    raw = countingClient();
    backend = createAwsBackend(options({ client: raw.client }));
  });
  afterAll(() => raw.client.destroy());

  describe("names and tags", () => {
    it("stores a secret under the documented name with keyway tags, metadata on top", async () => {
      const target = { tenant: "acme", namespace: `company.team${run}`, key: "DB_PASSWORD" };
      await backend.put?.(target, "pw", { description: "db", tags: { team: "core" } });
      const name = `kw-${run}/acme/company/team${run}/DB_PASSWORD`;
      expect(secretName(`kw-${run}`, target)).toBe(name);
      const described = await raw.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(described.Description).toBe("db");
      expect(Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
        team: "core",
        "keyway:prefix": `kw-${run}`,
        "keyway:namespace": `company.team${run}`,
        "keyway:key": "DB_PASSWORD",
        "keyway:tenant": "acme",
      });
      // Tenants are walls: the same namespace and key without the tenant is another secret.
      await expect(backend.get({ namespace: target.namespace, key: target.key })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
      expect((await backend.list?.(target.namespace, { tenant: "acme" }))?.map((l) => l.key)).toEqual([
        "DB_PASSWORD",
      ]);
    });

    it("a second put updates the description and replaces user tags, keeping keyway tags", async () => {
      const target = ref("RETAG");
      await backend.put?.(target, "one", { description: "first", tags: { a: "1", b: "2" } });
      await backend.put?.(target, "two", { description: "second", tags: { b: "3" } });
      const [listed] = (await backend.list?.(target.namespace)) ?? [];
      expect(listed).toMatchObject({ key: "RETAG", metadata: { description: "second", tags: { b: "3" } } });
      // A put without metadata keeps what is there.
      await backend.put?.(target, "three");
      const [again] = (await backend.list?.(target.namespace)) ?? [];
      expect(again?.metadata).toMatchObject({ description: "second", tags: { b: "3" } });
      expect((await backend.get(target)).reveal()).toBe("three");
      await backend.delete?.(target);
    });

    it("refuses a user tag in the keyway: namespace before any call", async () => {
      const before = raw.calls.length;
      await expect(
        backend.put?.(ref("RESERVED"), "v", { tags: { "keyway:key": "OTHER" } }),
      ).rejects.toBeInstanceOf(InvalidSecretValueError);
      expect(raw.calls.length).toBe(before);
    });
  });

  describe("versions", () => {
    it("keeps the previous value as AWSPREVIOUS after a second put; reads stages and ids", async () => {
      const target = ref("STAGED");
      await backend.put?.(target, "v1");
      const first = await backend.get(target);
      await backend.put?.(target, "v2");
      expect((await backend.get(target)).reveal()).toBe("v2");
      expect((await backend.get(target, { version: "AWSCURRENT" })).reveal()).toBe("v2");
      const previous = await backend.get(target, { version: "AWSPREVIOUS" });
      expect(previous.reveal()).toBe("v1");
      expect(previous.metadata.version).toBe(first.metadata.version);
      expect((await backend.get(target, { version: first.metadata.version })).reveal()).toBe("v1");
      await expect(backend.get(target, { version: "NO_SUCH_STAGE" })).rejects.toBeInstanceOf(
        SecretNotFoundError,
      );
      await expect(backend.get(target, { version: "bad version\n" })).rejects.toBeInstanceOf(
        InvalidReferenceError,
      );
      await backend.delete?.(target);
    });
  });

  describe("getMany", () => {
    it("reads 45 secrets in 3 BatchGetSecretValue calls, each ref with its value or typed error", async () => {
      const namespace = `batch.r${run}`;
      const refs = Array.from({ length: 45 }, (_, i) => ref(`B${String(i).padStart(2, "0")}`, namespace));
      await inParallel(refs, 10, (r) => backend.put?.(r, `value-${r.key}`) ?? Promise.resolve());
      const missing = ref("B_MISSING", namespace);
      const invalid = { namespace, key: "not valid!" } as SecretRef;
      const before = raw.calls.length;
      const result = (await backend.getMany?.([...refs, missing, invalid])) ?? new Map();
      const sent = raw.calls.slice(before);
      // 46 names (45 + the missing one) in chunks of 20: 20, 20, 6. The invalid ref is never sent.
      expect(sent.filter((c) => c === "BatchGetSecretValue")).toHaveLength(3);
      expect(sent.filter((c) => c !== "BatchGetSecretValue")).toEqual([]);
      for (const r of refs) expect((result.get(r) as SecretValue).reveal()).toBe(`value-${r.key}`);
      expect(result.get(missing)).toBeInstanceOf(SecretNotFoundError);
      expect(result.get(invalid)).toBeInstanceOf(InvalidReferenceError);
      expect(result.size).toBe(47);
    });

    it("reads a version of each ref one by one (BatchGetSecretValue has no versions)", async () => {
      const target = ref("MANY_VER");
      await backend.put?.(target, "old");
      await backend.put?.(target, "new");
      const result = (await backend.getMany?.([target], { version: "AWSPREVIOUS" })) ?? new Map();
      expect((result.get(target) as SecretValue).reveal()).toBe("old");
    });
  });

  describe("list", () => {
    it("pages past 100 secrets and keeps exactly one namespace level", async () => {
      const namespace = `page.r${run}`;
      const keys = Array.from({ length: 105 }, (_, i) => `P${String(i).padStart(3, "0")}`);
      await inParallel(keys, 15, (key) => backend.put?.(ref(key, namespace), "x") ?? Promise.resolve());
      // Neighbours the name filter alone would let through: a child namespace, a sibling whose
      // name shares the prefix, and the parent.
      await backend.put?.(ref("CHILD", `${namespace}.sub`), "x");
      await backend.put?.(ref("SIBLING", `${namespace}x`), "x");
      await backend.put?.(ref("PARENT", "page"), "x");
      const before = raw.calls.length;
      const listed = (await backend.list?.(namespace)) ?? [];
      expect(raw.calls.slice(before).filter((c) => c === "ListSecrets").length).toBeGreaterThanOrEqual(2);
      expect(listed.map((l) => l.key)).toEqual(keys);
      expect((await backend.list?.(`${namespace}.sub`))?.map((l) => l.key)).toEqual(["CHILD"]);
    });

    it("lists the root namespace without its sub-namespaces", async () => {
      const rootBackend = createAwsBackend(options({ prefix: `kw-root-${run}` }));
      await rootBackend.put?.({ namespace: "", key: "A" }, "root");
      await rootBackend.put?.({ namespace: "A", key: "K" }, "in A");
      expect((await rootBackend.list?.(""))?.map((l) => l.key)).toEqual(["A"]);
      expect((await rootBackend.list?.("A"))?.map((l) => l.key)).toEqual(["K"]);
      expect((await rootBackend.get({ namespace: "", key: "A" })).reveal()).toBe("root");
      await rootBackend.close?.();
    });
  });

  describe("delete", () => {
    it("a deleted secret (recovery window) reads as not found everywhere, and put brings it back", async () => {
      const target = ref("SOFT");
      await backend.put?.(target, "before", { description: "kept", tags: { t: "1" } });
      await backend.delete?.(target);
      const name = secretName(`kw-${run}`, target);
      // It is only scheduled for deletion: AWS still knows it, and says so for a direct read.
      const described = await raw.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(described.DeletedDate).toBeInstanceOf(Date);
      const direct = await raw.client
        .send(new GetSecretValueCommand({ SecretId: name }))
        .catch((e: unknown) => e);
      expect((direct as Error).name).toBe("InvalidRequestException");

      await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      expect((await backend.getMany?.([target]))?.get(target)).toBeInstanceOf(SecretNotFoundError);
      expect((await backend.list?.(target.namespace))?.map((l) => l.key)).not.toContain("SOFT");
      await expect(backend.delete?.(target)).rejects.toBeInstanceOf(SecretNotFoundError);

      await backend.put?.(target, "after");
      expect((await backend.get(target)).reveal()).toBe("after");
      const restored = await raw.client.send(new DescribeSecretCommand({ SecretId: name }));
      expect(restored.DeletedDate).toBeUndefined();
      await backend.delete?.(target);
    });

    it("forceDelete removes at once; a missing name is still not found (AWS accepts force-deleting nothing)", async () => {
      const forced = createAwsBackend(options({ forceDelete: true }));
      const target = ref("FORCED");
      await forced.put?.(target, "x");
      await forced.delete?.(target);
      const left = await raw.client.send(
        new ListSecretsCommand({
          IncludePlannedDeletion: true,
          Filters: [{ Key: "name", Values: [secretName(`kw-${run}`, target)] }],
        }),
      );
      expect(left.SecretList ?? []).toEqual([]);
      await expect(forced.delete?.(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      await forced.put?.(target, "again");
      expect((await forced.get(target)).reveal()).toBe("again");
      await forced.delete?.(target);
      await forced.close?.();
    });

    it("put after a delete done outside Keyway with the shortest window works too", async () => {
      const target = ref("OUTSIDE");
      await backend.put?.(target, "one");
      await raw.client.send(
        new DeleteSecretCommand({ SecretId: secretName(`kw-${run}`, target), RecoveryWindowInDays: 7 }),
      );
      await backend.put?.(target, "two");
      expect((await backend.get(target)).reveal()).toBe("two");
    });
  });

  describe("binary secrets", () => {
    it("round-trips bytes that are not UTF-8 as bytes, never as garbled text", async () => {
      const target = ref("BIN");
      const bytes = Uint8Array.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0x41, 0x0a]);
      await backend.put?.(target, bytes);
      const value = await backend.get(target);
      expect(value.isBinary).toBe(true);
      expect([...value.revealBytes()]).toEqual([...bytes]);
      expect(() => value.reveal()).toThrow(TypeError);
      const many = (await backend.getMany?.([target]))?.get(target) as SecretValue;
      expect([...many.revealBytes()]).toEqual([...bytes]);
      // Back to text: the new version holds a SecretString only.
      await backend.put?.(target, "text now");
      const text = await backend.get(target);
      expect(text.isBinary).toBe(false);
      expect(text.reveal()).toBe("text now");
      expect(printedForms(text)).not.toContain("text now");
    });

    it("refuses binary values over 65,536 bytes before any call", async () => {
      const before = raw.calls.length;
      await expect(backend.put?.(ref("BIN_BIG"), new Uint8Array(65_537))).rejects.toBeInstanceOf(
        InvalidSecretValueError,
      );
      expect(raw.calls.length).toBe(before);
    });
  });
});
