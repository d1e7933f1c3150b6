// Noticed while checking trust issue #18 point 9's hostile shapes on documents: a YAML or JSON
// document nested thousands of levels deep overflows the stack in yaml's composer, and the second
// such document in a process killed Node outright (V8: "RegExpCompiler Allocation failed - process
// out of memory"), an executor taken down by a flow file. Nesting is now checked first.
import { describe, expect, it } from "vitest";
import { documentReferences, renderDocument } from "../src/document.js";
import { createMemoryBackend, createRouter, TemplateError } from "../src/index.js";

const router = createRouter({
  backends: { m: createMemoryBackend({ initial: { K: "tok-9d2f0a77" } }) },
  rules: [{ match: "", backend: "m" }],
});

const flowNest = (depth: number) => `${"[".repeat(depth)}"{{ secret('K') }}"${"]".repeat(depth)}`;
const blockNest = (depth: number) => `${"- ".repeat(depth)}"{{ secret('K') }}"\n`;
const mapNest = (depth: number) =>
  `${Array.from({ length: depth }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n")}\n${" ".repeat(depth)}"{{ secret('K') }}"\n`;

describe("documents nested too deep fail with a TemplateError, every time (trust issue #18, hostile documents)", () => {
  for (const [shape, nest] of [
    ["flow sequences", flowNest],
    ["block sequences", blockNest],
    ["block mappings", mapNest],
  ] as const) {
    it(`${shape}: 1,500 levels, three times in one process`, async () => {
      for (let i = 0; i < 3; i++) {
        const error = await renderDocument(router, nest(1_500), { namespace: "", format: "yaml" }).catch(
          (e) => e,
        );
        expect(error).toBeInstanceOf(TemplateError);
        expect((error as Error).message).toMatch(/nested more than 256 levels deep at line \d+, column \d+/);
        expect(() => documentReferences(nest(1_500), "yaml")).toThrow(TemplateError);
      }
    });

    it(`${shape}: 256 levels still render`, async () => {
      const { text } = await renderDocument(router, nest(256), { namespace: "", format: "yaml" });
      expect(text).toContain("tok-9d2f0a77");
    });
  }

  it("JSON nested 1,500 deep, three times", async () => {
    for (let i = 0; i < 3; i++) {
      const error = await renderDocument(router, flowNest(1_500), { namespace: "", format: "json" }).catch(
        (e) => e,
      );
      expect(error).toBeInstanceOf(TemplateError);
    }
  });
});
