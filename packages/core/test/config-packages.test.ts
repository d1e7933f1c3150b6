// Third-party backends named by package in keyway.yaml (issue #19 point 4): real package folders
// installed into a temp project the way `npm install ../folder` does (a link in node_modules), and
// loaded by the real loader. No mock of the import.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test/setup/temp-dirs.js";
import { loadConfiguredRouter } from "../src/config/index.js";
import { ConfigurationError } from "../src/index.js";

type Files = Record<string, string>;

/** A project folder with keyway.yaml, and each package's files in a folder of its own linked into node_modules. */
async function project(config: string, packages: Record<string, Files>): Promise<string> {
  const root = await tempDir("keyway-packages-");
  const app = path.join(root, "app");
  await mkdir(path.join(app, "node_modules"), { recursive: true });
  await writeFile(path.join(app, "keyway.yaml"), config);
  for (const [name, files] of Object.entries(packages)) {
    const source = path.join(root, "sources", name);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(source, file)), { recursive: true });
      await writeFile(path.join(source, file), text);
    }
    const link = path.join(app, "node_modules", name);
    await mkdir(path.dirname(link), { recursive: true });
    await symlink(source, link, "dir");
  }
  return path.join(app, "keyway.yaml");
}

const manifest = (name: string, exports: Record<string, string>) =>
  JSON.stringify({ name, version: "1.0.0", type: "module", exports });

/** A definition that serves `greeting` as GREETING (in `namespace`, else the root) from a memory backend. */
const DEFINITION = `
import { createMemoryBackend } from "@keyway/core";
export const definition = {
  type: "greeter",
  optionsSchema: {
    safeParse: (input) =>
      typeof input.greeting === "string" && Object.keys(input).every((k) => k === "greeting" || k === "namespace")
        ? { success: true, data: input }
        : { success: false, error: { issues: [{ path: ["greeting"], message: "a string, and nothing else" }] } },
  },
  create: (options, { name }) => createMemoryBackend({ name, initial: { [(options.namespace ?? "") + "/GREETING"]: options.greeting } }),
};
`;

const config = (type: string, options = 'greeting: "hé\\nllo"') =>
  `backends:\n  g: { type: "${type}", ${options} }\nnamespaces:\n  - { match: "", backend: g }\n`;

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe("keyway.yaml loads a backend by package name", () => {
  it("a scoped package laid out as Keyway's own (./definition), from the config file's folder", async () => {
    const file = await project(config("@acme/keyway-backend-greeter"), {
      "@acme/keyway-backend-greeter": {
        "package.json": manifest("@acme/keyway-backend-greeter", {
          ".": "./index.js",
          "./definition": "./definition.js",
        }),
        "index.js": "export const unused = true;\n",
        "definition.js": DEFINITION,
      },
    });
    const { router } = await loadConfiguredRouter({ path: file, strict: true, env: {} });
    expect((await router.resolve({ namespace: "a.b", key: "GREETING" })).reveal()).toBe("hé\nllo");
    await router.close();
  });

  it("a package whose main entry exports the definition, and an unscoped package named by its entry", async () => {
    const file = await project(
      `backends:\n  a: { type: "@acme/plain", greeting: one }\n  b: { type: "keyway-greeter/definition", greeting: two, namespace: b }\nnamespaces:\n  - { match: "", backend: a }\n  - { match: b, backend: b }\n`,
      {
        "@acme/plain": {
          "package.json": manifest("@acme/plain", { ".": "./main.js" }),
          "main.js": DEFINITION,
        },
        "keyway-greeter": {
          "package.json": manifest("keyway-greeter", { "./definition": "./d.js" }),
          "d.js": DEFINITION.replace("export const definition =", "export default"),
        },
      },
    );
    const { router } = await loadConfiguredRouter({ path: file, strict: true, env: {} });
    expect((await router.resolve({ namespace: "x", key: "GREETING" })).reveal()).toBe("one");
    expect((await router.resolve({ namespace: "b.c", key: "GREETING" })).reveal()).toBe("two");
    await router.close();
  });

  it("the package's own schema checks its options, and the error names the file and line", async () => {
    const file = await project(config("@acme/greeter", "greeting: 1"), {
      "@acme/greeter": { "package.json": manifest("@acme/greeter", { ".": "./d.js" }), "d.js": DEFINITION },
    });
    const error = await failure(loadConfiguredRouter({ path: file, strict: true, env: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toMatch(/keyway\.yaml:2: .*greeting.*a string, and nothing else/);
  });

  it("a package that is not installed is a ConfigurationError saying what to install", async () => {
    const file = await project(config("@acme/keyway-backend-missing"), {});
    const error = await failure(loadConfiguredRouter({ path: file, strict: true, env: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain(
      "keyway.yaml:2: backend package '@acme/keyway-backend-missing' is not installed",
    );
    expect(error?.message).toContain("npm install @acme/keyway-backend-missing.");
  });

  it("without strict, only the namespaces served by a missing package fail", async () => {
    const file = await project(config("@acme/keyway-backend-missing"), {});
    const { router } = await loadConfiguredRouter({ path: file, env: {} });
    const error = await failure(router.resolve({ namespace: "a", key: "K" }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("is not installed");
  });

  it("a package that exports no backend definition is a ConfigurationError", async () => {
    const file = await project(config("@acme/not-a-backend"), {
      "@acme/not-a-backend": {
        "package.json": manifest("@acme/not-a-backend", { ".": "./i.js", "./definition": "./d.js" }),
        "i.js": "export const definition = { type: 'x', create: 1 };\n",
        "d.js": "export default 42;\n",
      },
    });
    const error = await failure(loadConfiguredRouter({ path: file, strict: true, env: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("backend package '@acme/not-a-backend' exports no backend definition");
  });

  it("a package that throws while loading is a ConfigurationError with the cause kept", async () => {
    const file = await project(config("@acme/broken"), {
      "@acme/broken": {
        "package.json": manifest("@acme/broken", { ".": "./i.js" }),
        "i.js": "throw new Error('boom at import');\n",
      },
    });
    const error = await failure(loadConfiguredRouter({ path: file, strict: true, env: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("backend package '@acme/broken' failed to load.");
    expect(String((error?.cause as Error | undefined)?.message)).toContain("boom at import");
  });

  it.each([
    "@acme/../../etc",
    "@acme/foo/..",
    "../outside",
    "/abs/path",
    "@Acme/Upper",
    "@acme/foo%2f..",
    "@acme/foo\\..\\x",
    `@acme/${"x".repeat(220)}`,
  ])("a type that is not a package name is refused before anything is imported: %s", async (type) => {
    const file = await project(config(type.replace(/\\/g, "\\\\")), {});
    const error = await failure(loadConfiguredRouter({ path: file, strict: true, env: {} }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error?.message).toContain("a package name such as @acme/keyway-backend-foo");
  });
});
