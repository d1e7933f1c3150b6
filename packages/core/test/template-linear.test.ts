// Trust issue #18 point 9: scanning is linear. The measure is the scanner's own count of the
// characters it examined (templateScanWork), never time: each byte is visited a bounded number of
// times whatever the shape of the text, so 10× the input is about 10× the work.
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { documentReferences, renderDocument } from "../src/document.js";
import {
  createMemoryBackend,
  createRouter,
  renderProperties,
  templateReferences,
  templateScanWork,
} from "../src/internal.js";

/** Hostile and ordinary shapes: one unit, repeated. */
const SHAPES: Record<string, string> = {
  "non-secret tags": "x: {{ x }}\n",
  "secret tags": "t: {{ secret('K') }}\n",
  "calls in a larger expression": "{{ secret('K') | upper ~ secret(\"K\") }}\n",
  "unclosed {{": "{{ a ",
  "unclosed {%": "{% if ",
  "unclosed {#": "{# note ",
  "secret( never closed": "{{ secret(",
  "secret( inside strings": "{{ 'secret(' ~ \"secret(\" }}",
  "unterminated quotes": "{{ '",
  "one quote in each tag": "{{ ' }}\n{% \" %}\n",
  "nested quotes": `{{ "'" ~ '"' ~ "\\"" `,
  "escapes and quotes": "{{ '\\\\' ~ '\\'' }} \\'",
  "statements and comments": "{% for i in x %}{{ i }}{# {{ secret('K') }} #}{% endfor %}\n",
  "secret words without a call": "{{ secret secret   secret.x }}",
  "braces only": "{{{{}}}}{%{%%}",
  "a long string of openers": "'{{{{{{{{{{",
};

function work(scan: () => unknown): number {
  const before = templateScanWork();
  try {
    scan();
  } catch {
    // A malformed call is a TemplateError; the work up to it counts all the same.
  }
  return templateScanWork() - before;
}

describe("the template scanner's work is linear in the text (trust issue #18 point 9)", () => {
  for (const [shape, unit] of Object.entries(SHAPES)) {
    it(`${shape}: at most a few visits per character, and 10× the text is ≤ 11× the work`, () => {
      const small = unit.repeat(Math.ceil(4_000 / unit.length));
      const large = small.repeat(10);
      const w1 = work(() => templateReferences(small));
      const w10 = work(() => templateReferences(large));
      expect(w10 / large.length).toBeLessThanOrEqual(8);
      expect(w10 / Math.max(w1, 1)).toBeLessThanOrEqual(11);
    });
  }
});

describe("every render path scans each text a bounded number of times (trust issue #18 point 9)", () => {
  const router = createRouter({
    backends: { m: createMemoryBackend({ initial: { K: "s3cr3t-token-value" } }) },
    rules: [{ match: "", backend: "m" }],
  });
  // Many tags that are not calls, then one that is: the shape that was quadratic.
  const text = `${"  - '{{ x }} {{ y }}'\n".repeat(2_000)}  - '{{ secret("K") }}'\n`;

  for (const mode of ["final", "pebble", "jinja"] as const) {
    it(`router.render in mode ${mode}`, async () => {
      const before = templateScanWork();
      await router.render(text, { namespace: "", mode });
      expect((templateScanWork() - before) / text.length).toBeLessThanOrEqual(8);
    });
  }

  it("renderDocument and documentReferences on YAML, renderProperties on its parsed form", async () => {
    // A list of short strings, and one block scalar of many lines: both shapes of a flow.
    const yaml = `list:\n${text}script: |\n${"  echo {{ x }}\n".repeat(2_000)}  {{ secret('K') }}\n`;
    let before = templateScanWork();
    await renderDocument(router, yaml, { namespace: "", format: "yaml" });
    documentReferences(yaml, "yaml");
    expect((templateScanWork() - before) / yaml.length).toBeLessThanOrEqual(24);
    const parsed = parseYaml(yaml);
    before = templateScanWork();
    await renderProperties(router, parsed, { namespace: "" });
    expect((templateScanWork() - before) / yaml.length).toBeLessThanOrEqual(8);
  });
});
