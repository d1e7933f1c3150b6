// The store's options, without a database: the schema is the one validator, `timeoutMs` is the
// old name of `requestTimeoutMs`, and keyway.yaml's relative paths mean the config file's folder.
import path from "node:path";
import { ConfigurationError } from "@keyway/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolvePaths } from "../src/definition.js";
import { createStoreBackend } from "../src/index.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("store options", () => {
  it("timeoutMs still works, with one deprecation warning naming requestTimeoutMs", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const store = createStoreBackend({ path: "/nonexistent/store", timeoutMs: 1234, env: {} });
    createStoreBackend({ path: "/nonexistent/store", timeoutMs: 1234, env: {} });
    expect(store.engine).toBe("sqlite");
    const warnings = warn.mock.calls.filter(
      ([, o]) => (o as { code?: string })?.code === "KEYWAY_DEP_TIMEOUT_MS",
    );
    expect(warnings).toHaveLength(1);
    expect(() =>
      createStoreBackend({ path: "/nonexistent/store", timeoutMs: 1, requestTimeoutMs: 2, env: {} }),
    ).toThrow(/'timeoutMs' and 'requestTimeoutMs'/);
    await store.close();
  });

  it.each([
    ["both engines", { url: "postgres://127.0.0.1/x", path: "/tmp/s" }, /exactly one of url/],
    ["no engine", {}, /exactly one of url/],
    ["a non-PostgreSQL URL", { url: "mysql://127.0.0.1/x" }, /'url'/],
    ["keepVersions 0", { path: "/tmp/s", keepVersions: 0 }, /'keepVersions'/],
    ["an unknown option", { path: "/tmp/s", keyfile: "k" }, /'keyfile'/],
  ])("refuses %s with a ConfigurationError naming it", (_, options, message) => {
    const create = () => createStoreBackend(options as Parameters<typeof createStoreBackend>[0]);
    expect(create).toThrow(ConfigurationError);
    expect(create).toThrow(message);
  });

  it("resolves relative path: and keyFile: against the config's folder, leaves absolute ones", () => {
    const base = path.join(path.sep, "etc", "keyway");
    expect(resolvePaths({ path: "data/store", keyFile: "../keys/store.key" }, base)).toEqual({
      path: path.join(base, "data", "store"),
      keyFile: path.join(path.sep, "etc", "keys", "store.key"),
    });
    expect(resolvePaths({ path: "/var/lib/store", keyFile: undefined }, base)).toEqual({
      path: "/var/lib/store",
      keyFile: undefined,
    });
    expect(resolvePaths({ url: "postgres://h/db" }, base)).toEqual({
      url: "postgres://h/db",
      path: undefined,
      keyFile: undefined,
    });
    expect(resolvePaths({ path: "data/store" }, undefined)).toEqual({ path: "data/store" });
  });
});
