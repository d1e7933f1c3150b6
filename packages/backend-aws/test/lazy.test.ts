// Importing the package and creating a backend must not load the AWS SDK (style rule 4): the
// SDK module is replaced by a spy that records when it is first evaluated.
import { describe, expect, it, vi } from "vitest";

const loaded = vi.hoisted(() => ({ sdk: 0, providers: 0 }));

vi.mock("@aws-sdk/client-secrets-manager", async (importActual) => {
  loaded.sdk++;
  return importActual();
});
vi.mock("@aws-sdk/credential-providers", async (importActual) => {
  loaded.providers++;
  return importActual();
});

describe("lazy SDK", () => {
  it("loads the SDK on the first call, not on import or creation", async () => {
    const { createAwsBackend } = await import("../src/index.js");
    const backend = createAwsBackend({
      region: "us-east-1",
      endpoint: "http://127.0.0.1:1",
      credentials: { type: "static", accessKeyId: "a", secretAccessKey: "b" },
    });
    await import("../src/definition.js");
    expect(loaded).toEqual({ sdk: 0, providers: 0 });
    await backend.get({ namespace: "", key: "K" }).catch(() => undefined);
    expect(loaded.sdk).toBe(1);
    // Static keys need no credential provider package.
    expect(loaded.providers).toBe(0);
    await backend.close?.();
  });
});
