import nunjucks from "nunjucks";
import { describe, expect, it } from "vitest";
import {
  createMemoryBackend,
  createRouter,
  engineLiteral,
  scanTemplate,
  TemplateError,
  templateReferences,
} from "../src/internal.js";

const router = (initial: Record<string, string>) =>
  createRouter({ backends: { m: createMemoryBackend({ initial }) }, rules: [{ match: "", backend: "m" }] });

describe("template scanner", () => {
  it("finds calls in either quote style, with any spacing and named arguments", () => {
    const refs = templateReferences(
      "{{secret('A')}} {{  secret( \"B\" , namespace = 'x.y' , subkey=\"u\" )  }} {{ secret(key='C', errorOnMissing=false) }}",
    );
    expect(refs.map((r) => [r.key, r.namespace, r.subkey, r.errorOnMissing])).toEqual([
      ["A", undefined, undefined, true],
      ["B", "x.y", "u", true],
      ["C", undefined, undefined, false],
    ]);
  });

  it("lists a call with a non-literal argument as dynamic", () => {
    const [ref] = templateReferences("{{ secret(inputs.name) }}");
    expect(ref).toMatchObject({ dynamic: true, key: undefined });
  });

  it("ignores secret( inside strings and comments, and other functions ending in secret", () => {
    expect(
      templateReferences("{{ 'secret(\"X\")' }} {# secret('Y') #} {{ mysecret('Z') }} {{ a.secret('W') }}"),
    ).toEqual([]);
  });

  it("a `}}` inside a string literal does not close the tag", () => {
    const [tag] = scanTemplate("{{ secret('A') ~ '}}' }}");
    expect(tag?.calls).toHaveLength(1);
  });

  it.each([
    ["{{ secret('A' }}", 1, 4],
    ["line one\n  {{ secret('A', 'B') }}", 2, 6],
    ["{{ secret() }}", 1, 4],
    ["{{ secret('A', bogus='x') }}", 1, 4],
    ["{{ secret('A) }}", 1, 4],
    ["{{ secret(subkey='x') }}", 1, 4],
  ])("a malformed call %j is a TemplateError with line and column", (text, line, column) => {
    const error = (() => {
      try {
        scanTemplate(text);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toMatch(new RegExp(`line ${line}, column \\d+`));
    expect(Number(/column (\d+)/.exec(error?.message ?? "")?.[1])).toBeGreaterThanOrEqual(column);
  });
});

describe("render modes", () => {
  const tricky = "a'b\"c\\d {{ 7*7 }} {% raw %}\nline2";

  it("final (default): exact expressions become values; every other tag survives byte for byte", async () => {
    const text =
      "{% if a %}x{% endif %}{{ b }}{# c #}{{ secret('A') }}{{ secret('A') | upper }}{% set s = secret('A') %}";
    expect(await router({ "/A": "v" }).render(text, { namespace: "" })).toBe(
      "{% if a %}x{% endif %}{{ b }}{# c #}v{{ secret('A') | upper }}{% set s = secret('A') %}",
    );
  });

  it("jinja: every literal call becomes a string literal; nunjucks renders filters on it", async () => {
    const out = await router({ "/A": "value" }).render("{{ secret('A') | upper }}-{{ secret('A') }}", {
      namespace: "",
      mode: "jinja",
    });
    expect(out).toBe("{{ 'value' | upper }}-{{ 'value' }}");
    expect(nunjucks.renderString(out, {})).toBe("VALUE-value");
  });

  it("jinja: a value containing {{ }} is never evaluated by nunjucks", async () => {
    const r = router({ "/T": tricky });
    const out = await r.render("[{{ secret('T') }}]", { namespace: "", mode: "jinja" });
    const env = new nunjucks.Environment(null, { autoescape: false });
    expect(env.renderString(out, {})).toBe(`[${tricky}]`);
  });

  it("pebble: values become single-quoted literals (no #{} interpolation), only quotes escaped", async () => {
    const out = await router({ "/T": "it's #{x} \\ ok" }).render("{{ secret('T') }}", {
      namespace: "",
      mode: "pebble",
    });
    // Pebble's lexer unescapes only \' (trust issue #18 point 11): a doubled backslash stays two.
    expect(out).toBe("{{ 'it\\'s #{x} \\ ok' }}");
  });

  it("pebble: trust issue #18 point 11: a backslash Pebble would pair with the closing quote is joined with ~", async () => {
    // Checked against Pebble itself in test/conformance/engines.test.ts.
    expect(engineLiteral("a\\", "pebble")).toBe("('a' ~ ('\\\\'|first))");
    expect(engineLiteral("\\'", "pebble")).toBe("(('\\\\'|first) ~ '\\'')");
    expect(engineLiteral("a\\\\'b", "pebble")).toBe("'a\\\\\\'b'");
    expect(engineLiteral("{% raw %}", "pebble")).toBe("('{' ~ '% raw %}')");
    expect(engineLiteral("", "pebble")).toBe("''");
  });

  it("pebble/jinja: full=true becomes a map literal", async () => {
    const out = await router({ "/A": "v" }).render("{{ secret('A', full=true).value }}", {
      namespace: "",
      mode: "jinja",
    });
    expect(nunjucks.renderString(out, {})).toBe("v");
  });

  it("dynamic calls are left for the engine", async () => {
    const text = "{{ secret(name) }}";
    expect(await router({}).render(text, { namespace: "", mode: "pebble" })).toBe(text);
  });
});
