import { printedForms } from "@keyway/backend-test-suite";
import { ConfigurationError } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { definition } from "../src/definition.js";
import { type AwsBackendOptions, createAwsBackend } from "../src/index.js";

const SECRET = "kwUNITsecret-never-printed-0123456789";

describe("createAwsBackend options", () => {
  it("creates without connecting and declares AWS's capabilities", () => {
    const backend = createAwsBackend({ region: "eu-west-1" });
    expect(backend.name).toBe("aws");
    expect(backend.capabilities).toEqual({
      write: true,
      list: true,
      batch: true,
      versions: true,
      caseSensitiveKeys: true,
      maxValueBytes: 65_536,
    });
    expect(typeof backend.put).toBe("function");
    expect(typeof backend.getMany).toBe("function");
  });

  it.each<[string, AwsBackendOptions]>([
    ["prefix with a double slash", { prefix: "a//b" }],
    ["prefix too long for AWS's 512-character names", { prefix: "p".repeat(42) }],
    ["endpoint not a URL", { endpoint: "localhost:4566" }],
    ["region", { region: "EU WEST" }],
    ["timeout", { requestTimeoutMs: 0 }],
    ["recovery window", { recoveryWindowDays: 3 }],
    ["credentials type", { credentials: { type: "magic" } as never }],
    ["static without secret", { credentials: { type: "static", accessKeyId: "AKIA", secretAccessKey: "" } }],
    ["role ARN", { credentials: { type: "assumeRole", roleArn: "keyway-role" } }],
    [
      "role session length",
      { credentials: { type: "assumeRole", roleArn: "arn:aws:iam::1:role/r", durationSeconds: 60 } },
    ],
    ["read-only match", { readOnly: { match: "all" } as never }],
    ["read-only prefix", { readOnly: { match: "prefix", namePrefix: "" } }],
    ["keyway: default tag", { tags: { "keyway:key": "x" } }],
    ["client with region", { client: { send: async () => ({}) } as never, region: "eu-west-1" }],
    ["client not a client", { client: {} as never }],
  ])("refuses a bad %s with ConfigurationError", (_, options) => {
    expect(() => createAwsBackend(options)).toThrow(ConfigurationError);
  });

  it("accepts a credentials object the AWS SDK has marked ($source), as an app's own client leaves it", () => {
    const credentials = { type: "static" as const, accessKeyId: "a", secretAccessKey: "b", $source: {} };
    expect(() => createAwsBackend({ region: "eu-west-1", credentials })).not.toThrow();
  });

  it("never echoes a credential when refusing options", () => {
    const error = (() => {
      try {
        createAwsBackend({
          credentials: {
            type: "assumeRole",
            roleArn: "nope",
            source: { type: "static", accessKeyId: SECRET, secretAccessKey: SECRET },
          },
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(printedForms(error)).not.toContain(SECRET);
  });

  it("read-only modes drop put and delete; tags mode has no batch", () => {
    for (const readOnly of [{ match: "names" }, { match: "prefix", namePrefix: "kestra_" }] as const) {
      const backend = createAwsBackend({ region: "eu-west-1", readOnly });
      expect(backend.capabilities.write).toBe(false);
      expect(backend.put).toBeUndefined();
      expect(backend.delete).toBeUndefined();
      expect(backend.capabilities.batch).toBe(true);
    }
    const tags = createAwsBackend({
      region: "eu-west-1",
      readOnly: { match: "tags", tags: { app: "kestra" } },
    });
    expect(tags.capabilities.batch).toBe(false);
    expect(tags.getMany).toBeUndefined();
  });
});

describe("definition (keyway.yaml)", () => {
  it("accepts every option a file can give and creates the backend under the config's name", () => {
    const parsed = definition.optionsSchema.safeParse({
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:4566",
      prefix: "kestra/prod",
      requestTimeoutMs: 5000,
      credentials: {
        type: "assumeRole",
        roleArn: "arn:aws:iam::123456789012:role/keyway",
        externalId: "x",
        source: { type: "static", accessKeyId: "AKIA", secretAccessKey: "s" },
      },
      tags: { team: "core" },
      forceDelete: false,
      recoveryWindowDays: 30,
      readOnly: { match: "tags", tags: { app: "kestra" } },
    });
    expect(parsed.success).toBe(true);
    if (!parsed.success) return;
    const backend = definition.create(parsed.data, { name: "prod", env: {} });
    expect(backend.name).toBe("prod");
    expect(backend.capabilities.write).toBe(false);
    expect(definition.type).toBe("aws");
  });

  it("reports bad options by path without echoing their values", () => {
    const parsed = definition.optionsSchema.safeParse({
      prefix: "a//b",
      credentials: { type: "static", accessKeyId: 7, secretAccessKey: SECRET, extra: SECRET },
      readOnly: { match: "everything" },
      tags: { "keyway:key": SECRET },
      client: {},
    });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const paths = parsed.error.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["prefix", "credentials", "readOnly.match", "tags"]));
    expect(paths.some((p) => p === "" || p === "client")).toBe(true);
    expect(JSON.stringify(parsed.error.issues)).not.toContain(SECRET);
  });
});
