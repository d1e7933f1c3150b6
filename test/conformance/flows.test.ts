// The flow corpus (test/fixtures/flows/, written after Kestra's plugin docs) through Kestra's own
// reader and engine (trust issue #18 point 11): each flow is rendered by Keyway in every mode with
// values that break naive escaping, read back by Jackson, and its secret-holding strings rendered
// by Pebble as Kestra does (mode pebble) or by Jinja2 (mode jinja).
import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { documentReferences, renderDocument } from "../../packages/core/src/document.js";
import { createMemoryBackend, createRedactor, createRouter } from "../../packages/core/src/index.js";
import { JinjaOracle, KestraOracle, requireOracle } from "./oracle.js";

const kestraInstalled = requireOracle("kestra-oracle");
const jinjaInstalled = requireOracle("jinja2");

const corpus = new URL("../fixtures/flows/", import.meta.url);
const flows = readdirSync(corpus).filter((name) => /\.ya?ml$/.test(name));

const PEM =
  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n";
/** Values that break naive escaping in one engine or another; no template syntax of their own. */
const VALUES = [
  JSON.stringify({
    type: "service_account",
    private_key: PEM,
    client_email: "kestra@acme.iam.gserviceaccount.com",
  }),
  "C:\\new\\table\\",
  "it\\'s a 'quoted' \"value\"",
  "line one\u0085line two\u2028three\u2029four",
  PEM,
  "yes",
  " leading and trailing ",
  "tab\there\r\nand CRLF",
  "\\\\server\\share\\'",
  "#{not.interpolated} 100%",
];

const routerFor = (text: string) => {
  const keys = [...new Set(documentReferences(text, "yaml").map((r) => r.key as string))];
  return createRouter({
    backends: {
      m: createMemoryBackend({
        initial: Object.fromEntries(keys.map((key, i) => [`/${key}`, VALUES[i % VALUES.length] as string])),
      }),
    },
    rules: [{ match: "", backend: "m" }],
    redactor: createRedactor({ onWarning: () => {} }),
  });
};

/** Every string of a tree, keys too, depth first (a string Pebble failed on counts as one). */
function strings(node: unknown): string[] {
  if (typeof node === "string") return [node];
  if (node !== null && typeof node === "object" && "$error" in node) return [`Pebble failed: ${node.$error}`];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (node !== null && typeof node === "object")
    return Object.entries(node).flatMap(([key, value]) => [key, ...strings(value)]);
  return [];
}

/** The tree with each string (keys too) replaced, as Kestra renders a flow property by property. */
async function mapStrings(node: unknown, f: (s: string) => Promise<string>): Promise<unknown> {
  if (typeof node === "string") return f(node);
  if (Array.isArray(node)) return Promise.all(node.map((item) => mapStrings(item, f)));
  if (node !== null && typeof node === "object") {
    const entries = await Promise.all(
      Object.entries(node).map(async ([key, value]) => [await f(key), await mapStrings(value, f)]),
    );
    return Object.fromEntries(entries);
  }
  return node;
}

describe.skipIf(!kestraInstalled || !jinjaInstalled)(
  "the flow corpus through Kestra's reader and engines",
  () => {
    let kestra: KestraOracle;
    let jinja: JinjaOracle;
    beforeAll(async () => {
      kestra = new KestraOracle();
      jinja = new JinjaOracle();
      await Promise.all([kestra.ready, jinja.ready]);
    }, 60_000);
    afterAll(() => Promise.all([kestra?.close(), jinja?.close()]));

    it("has YAML flows with secret() calls", () => {
      expect(flows.length).toBeGreaterThanOrEqual(10);
    });

    for (const name of flows) {
      it(`${name}: Jackson reads what each property renders to, and the engines give each value`, async () => {
        const text = readFileSync(new URL(name, corpus), "utf8");
        const router = routerFor(text);
        const { tree: original } = await kestra.read(text, false);
        const render = (mode: "final" | "pebble" | "jinja") => (s: string) =>
          router.render(s, { namespace: "company.team", mode });
        const finalStrings = strings(await mapStrings(original, render("final")));
        const originalStrings = strings(original);
        for (const mode of ["final", "pebble", "jinja"] as const) {
          const { text: out } = await renderDocument(router, text, {
            namespace: "company.team",
            format: "yaml",
            mode,
          });
          const { tree, rendered } = await kestra.read(out, mode === "pebble");
          // The document as Kestra reads it is the original with each property rendered on its own.
          expect(tree, `${name} --mode ${mode}`).toEqual(await mapStrings(original, render(mode)));
          if (mode === "final") continue;
          // Each property whose every expression is a secret() call evaluates to the final text.
          const evaluated = strings(mode === "pebble" ? rendered : tree);
          for (const [i, source] of originalStrings.entries()) {
            const expected = finalStrings[i] as string;
            if (!source.includes("secret(") || /\{[{%#]/.test(expected)) continue;
            const got = mode === "pebble" ? evaluated[i] : await jinja.render(evaluated[i] as string);
            expect(got, `${name} --mode ${mode}: ${source}`).toBe(expected);
          }
        }
      });
    }
  },
);
