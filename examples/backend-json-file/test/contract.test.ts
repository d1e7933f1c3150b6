// The example backend passes the contract suite through @keyway/backend-test-suite, writable and
// read-only, and loads from a keyway.yaml by its package name in a temp project.
import { mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { defineBackendContract, printedForms, seedByPut } from "@keyway/backend-test-suite";
import {
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  SecretNotFoundError,
} from "@keyway/core";
import { loadConfiguredRouter } from "@keyway/core/config";
import * as vitest from "vitest";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { createJsonFileBackend } from "../index.js";

const here = path.resolve(import.meta.dirname, "..");
const secretsFile = async () => path.join(await tempDir("keyway-json-file-"), "secrets.json");

defineBackendContract(vitest, "json-file (writable)", {
  create: async (seed) =>
    seedByPut(createJsonFileBackend({ file: await secretsFile(), writable: true }), seed),
});

defineBackendContract(vitest, "json-file (read-only)", {
  create: async (seed) => {
    const file = await secretsFile();
    await seedByPut(createJsonFileBackend({ file, writable: true }), seed);
    return createJsonFileBackend({ file, maxValueBytes: 4096 });
  },
});

describe("json-file backend", () => {
  it("loads from keyway.yaml by its package name, installed in a project", async () => {
    const app = await tempDir("keyway-json-file-app-");
    const link = path.join(app, "node_modules/@example/keyway-backend-json-file");
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(here, link, "dir"); // what `npm install <this folder>` makes
    const file = path.join(app, "secrets.json");
    await writeFile(file, JSON.stringify({ "company.team": { API_TOKEN: "t0ken-ü\n" } }));
    await writeFile(
      path.join(app, "keyway.yaml"),
      `backends:\n  local: { type: "@example/keyway-backend-json-file", file: ${JSON.stringify(file)} }\nnamespaces:\n  - { match: "", backend: local }\n`,
    );
    const { router } = await loadConfiguredRouter({
      path: path.join(app, "keyway.yaml"),
      strict: true,
      env: {},
    });
    expect((await router.resolve({ namespace: "company.team.etl", key: "API_TOKEN" })).reveal()).toBe(
      "t0ken-ü\n",
    );
    expect(await router.render("{{ secret('API_TOKEN') }}", { namespace: "company.team" })).toBe("t0ken-ü\n");
    await router.close();
  });

  it("a namespace or key named __proto__ or constructor is data, never the prototype", async () => {
    const backend = createJsonFileBackend({ file: await secretsFile(), writable: true });
    await expect(backend.get({ namespace: "__proto__", key: "constructor" })).rejects.toBeInstanceOf(
      SecretNotFoundError,
    );
    await backend.put?.({ namespace: "__proto__", key: "__proto__" }, "proto-value");
    expect((await backend.get({ namespace: "__proto__", key: "__proto__" })).reveal()).toBe("proto-value");
    expect(({} as Record<string, unknown>).value).toBeUndefined();
    expect((await backend.list?.("__proto__"))?.map((l) => l.key)).toEqual(["__proto__"]);
  });

  it("a file that is not JSON is unavailable, and the error quotes none of it", async () => {
    const file = await secretsFile();
    await writeFile(file, '{ "ns": { "K": "hunter2-secret" ');
    const error = await createJsonFileBackend({ file })
      .get({ namespace: "ns", key: "K" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(printedForms(error)).not.toContain("hunter2");
  });

  it("a missing file is unavailable when read-only, and empty when writable", async () => {
    const file = await secretsFile();
    await expect(createJsonFileBackend({ file }).get({ namespace: "", key: "K" })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    await expect(
      createJsonFileBackend({ file, writable: true }).get({ namespace: "", key: "K" }),
    ).rejects.toBeInstanceOf(SecretNotFoundError);
  });

  it("its options are checked by the schema: a misspelt or missing option is a ConfigurationError", () => {
    expect(() => createJsonFileBackend({ file: "s.json", writeable: true } as never)).toThrow(/'writeable'/);
    expect(() => createJsonFileBackend({} as never)).toThrow(ConfigurationError);
    expect(() => createJsonFileBackend({ file: "s.json", maxValueBytes: 0 })).toThrow(/'maxValueBytes'/);
  });

  it("a file that holds something else is unavailable, never not-found, and quotes none of it", async () => {
    const file = await secretsFile();
    const backend = createJsonFileBackend({ file });
    for (const contents of [
      '["hunter2-secret"]',
      '{ "ns": "hunter2-secret" }',
      '{ "ns": { "K": { "description": "hunter2-secret" } } }',
      '{ "ns": { "K": 42 } }',
    ]) {
      await writeFile(file, contents);
      const error = await backend.get({ namespace: "ns", key: "K" }).catch((e: unknown) => e);
      expect(error, contents).toBeInstanceOf(BackendUnavailableError);
      expect(printedForms(error)).not.toContain("hunter2");
    }
  });

  it("a file it cannot read is unavailable, with the system's code", async () => {
    const dir = await tempDir("keyway-json-file-");
    const error = await createJsonFileBackend({ file: dir })
      .get({ namespace: "", key: "K" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain("(EISDIR)");
  });

  it("bytes that are not UTF-8 are InvalidSecretValueError, and nothing is written", async () => {
    const file = await secretsFile();
    const backend = createJsonFileBackend({ file, writable: true });
    await backend.put?.({ namespace: "ns", key: "K" }, new TextEncoder().encode("é-bytes"));
    await expect(
      backend.put?.({ namespace: "ns", key: "K" }, new Uint8Array([0x68, 0xff, 0xfe])),
    ).rejects.toBeInstanceOf(InvalidSecretValueError);
    expect((await backend.get({ namespace: "ns", key: "K" })).reveal()).toBe("é-bytes");
  });

  it("writes run one at a time: concurrent puts all land, and each write replaces the file whole", async () => {
    const file = await secretsFile();
    const backend = createJsonFileBackend({ file, writable: true });
    const keys = Array.from({ length: 30 }, (_, i) => `K${i}`);
    await Promise.all([
      ...keys.map((key) => backend.put?.({ namespace: "ns", key }, `v-${key}\n"quoted"`)),
      backend.delete?.({ namespace: "ns", key: "MISSING" }).catch(() => undefined), // a failed write stops none
    ]);
    expect((await backend.list?.("ns"))?.map((l) => l.key)).toEqual([...keys].sort());
    expect(JSON.parse(await readFile(file, "utf8")).ns.K7.value).toBe('v-K7\n"quoted"');
    expect(await readdir(path.dirname(file))).toEqual(["secrets.json"]); // no temporary file left
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});
