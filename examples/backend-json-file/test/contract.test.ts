// The example backend passes the contract suite through @keyway/backend-test-suite, writable and
// read-only, and loads from a keyway.yaml by its package name in a temp project.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { defineBackendContract, printedForms, seedByPut } from "@keyway/backend-test-suite";
import { BackendUnavailableError, SecretNotFoundError } from "@keyway/core";
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
});
