// Kestra's own engine as the oracle (trust issue #18 point 11): Keyway's output is read by the
// libraries Kestra reads flows with (Jackson's YAML mapper over SnakeYAML) and its strings are
// rendered by a Pebble engine set up as Kestra's VariableRenderer; `jinja` output is rendered by
// real Jinja2. Random values and flows (fast-check) and fixed regression cases.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderDocument } from "../../packages/core/src/document.js";
import {
  createMemoryBackend,
  createRedactor,
  createRouter,
  TemplateError,
} from "../../packages/core/src/index.js";
import { JinjaOracle, KestraOracle, requireOracle } from "./oracle.js";

const kestraInstalled = requireOracle("kestra-oracle");
const jinjaInstalled = requireOracle("jinja2");

/** A router whose namespace "" holds these keys (short random values: no warning per value). */
const routerWith = (secrets: Record<string, string>) =>
  createRouter({
    backends: {
      m: createMemoryBackend({
        initial: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [`/${k}`, v])),
      }),
    },
    rules: [{ match: "", backend: "m" }],
    redactor: createRedactor({ onWarning: () => {} }),
  });

/** Pieces that matter to YAML 1.1 readers, Pebble, Jinja2 and Kestra's {% raw %} handling. */
const HOSTILE = [
  // With a one-character prefix below these make YAML 1.1 words and numbers: y+es, 1+_000, o+n.
  "es",
  "o",
  "n",
  "ff",
  "ull",
  "rue",
  "ES",
  "_000",
  ":20:30",
  ".5",
  "e3",
  "x1F",
  "inf",
  "nan",
  "yes",
  "no",
  "on",
  "off",
  "~",
  "null",
  "true",
  "0x1F",
  "017",
  "1_000",
  ".inf",
  "2001-12-14",
  "<<",
  "=",
  "\u2028",
  "\u2029",
  "\u0085",
  "\u00a0",
  "\ufeff",
  "\r",
  "\n",
  "\r\n",
  "\t",
  " ",
  "  ",
  "'",
  "''",
  '"',
  "\\",
  "\\\\",
  "\\'",
  "\\n",
  "\\u0041",
  "\\x41",
  "\\N{BULLET}",
  "{{",
  "}}",
  "{%",
  "%}",
  "{#",
  "#}",
  "#{",
  "{",
  "}",
  "{% raw %}",
  "{% endraw %}",
  "{{ x }}",
  "{{ secret('OTHER') }}",
  "-}}",
  "{%-",
  ": ",
  " #",
  "# ",
  "- ",
  "---",
  "...",
  "&a",
  "*a",
  "!!str",
  "|",
  ">",
  "%",
  "@",
  "`",
  ",",
  "[",
  "]",
  "é",
  "日本",
  "😀",
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0080",
];

/** A secret value: hostile pieces, ordinary text, any code point, sometimes long. */
const secretValue = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 6 })), { maxLength: 12 })
      .map((parts) => parts.join("")),
  },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...HOSTILE), fc.integer({ min: 50, max: 400 }))
      .map(([piece, n]) => `${piece}x`.repeat(n)),
  },
);

/** Text around a call, identical under Pebble, Jinja2 and every YAML style used below. */
// One-character prefixes make YAML 1.1 words and numbers with the value (`y`+`es`, `1`+`_000`).
const prefix = fc.constantFrom(
  "",
  "Bearer ",
  "user=",
  "pre-",
  "a b ",
  "1",
  "0",
  "n",
  "o",
  "y",
  "N",
  "~",
  "-1",
  ".",
  "+",
);
const suffix = fc.constantFrom("", " tail", "/path", "=", ";x");

/**
 * The places a secret takes in a flow: each writes its YAML lines (under a task, 4 spaces in)
 * and says where Jackson's tree holds the string and what the string is.
 */
interface Place {
  yaml(call: string, before: string, after: string): string;
  expected(value: string, before: string, after: string): string;
  get(task: Record<string, unknown>): unknown;
  /** For a call inside a larger expression: the text mode final leaves for the engine. */
  leftInFinal?(before: string, after: string): string;
}
const call = (key: string, quote: "'" | "''" = "'") => `{{ secret(${quote}${key}${quote}) }}`;
const same = (value: string, before: string, after: string) => `${before}${value}${after}`;
const PLACES: Record<string, (key: string) => Place> = {
  double: (k) => ({
    yaml: (_, b, a) => `    p_${k}: "${b}${call(k)}${a}"\n`,
    expected: same,
    get: (t) => t[`p_${k}`],
  }),
  single: (k) => ({
    yaml: (_, b, a) => `    p_${k}: '${b}${call(k, "''")}${a}'\n`,
    expected: same,
    get: (t) => t[`p_${k}`],
  }),
  plain: (k) => ({
    yaml: (_, b, a) => `    p_${k}: Bearer ${b}${call(k)}${a}\n`,
    expected: (v, b, a) => `Bearer ${b}${v}${a}`,
    get: (t) => t[`p_${k}`],
  }),
  plainBare: (k) => ({
    yaml: (_, b, a) => `    p_${k}: ${b || "x"}${call(k)}${a}\n`,
    expected: (v, b, a) => `${b || "x"}${v}${a}`,
    get: (t) => t[`p_${k}`],
  }),
  literal: (k) => ({
    yaml: (_, b, a) => `    p_${k}: |\n      ${b}${call(k)}${a}\n      second line\n`,
    expected: (v, b, a) => `${b}${v}${a}\nsecond line\n`,
    get: (t) => t[`p_${k}`],
  }),
  folded: (k) => ({
    yaml: (_, b, a) => `    p_${k}: >\n      ${b}${call(k)}${a}\n`,
    expected: (v, b, a) => `${b}${v}${a}\n`,
    get: (t) => t[`p_${k}`],
  }),
  // Calls inside larger expressions: the literal stands in an operator's operand and before `.value`.
  concatenated: (k) => ({
    yaml: (_, b, a) => `    p_${k}: "${b}{{ secret('${k}') ~ '|' ~ secret('${k}') }}${a}"\n`,
    expected: (v, b, a) => `${b}${v}|${v}${a}`,
    get: (t) => t[`p_${k}`],
    leftInFinal: (b, a) => `${b}{{ secret('${k}') ~ '|' ~ secret('${k}') }}${a}`,
  }),
  full: (k) => ({
    yaml: (_, b, a) => `    p_${k}: "${b}{{ secret('${k}', full=true).value }}${a}"\n`,
    expected: same,
    get: (t) => t[`p_${k}`],
    leftInFinal: (b, a) => `${b}{{ secret('${k}', full=true).value }}${a}`,
  }),
  flowSequence: (k) => ({
    yaml: (_, b, a) => `    p_${k}: ["${b}${call(k)}${a}", other]\n`,
    expected: same,
    get: (t) => (t[`p_${k}`] as unknown[] | undefined)?.[0],
  }),
  key: (k) => ({
    yaml: (_, b, a) => `    p_${k}:\n      "${b}${call(k)}${a}": keyed\n`,
    expected: same,
    get: (t) => Object.keys((t[`p_${k}`] ?? {}) as object)[0],
  }),
};

/** A random flow: some places, each with its own key, value and surrounding text. */
const flow = fc
  .array(
    fc.record({
      place: fc.constantFrom(...Object.keys(PLACES)),
      value: secretValue,
      before: prefix,
      after: suffix,
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((entries) => {
    const uses = entries.map((entry, i) => ({
      ...entry,
      key: `K${i}`,
      at: (PLACES[entry.place] as (k: string) => Place)(`K${i}`),
    }));
    const yaml = `id: conformance\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n${uses
      .map((u) => u.at.yaml(call(u.key), u.before, u.after))
      .join("")}`;
    return { yaml, uses, secrets: Object.fromEntries(uses.map((u) => [u.key, u.value])) };
  });

/** Whether Kestra's renderer would evaluate template syntax in a string it is given. */
const hasTemplateSyntax = (s: string) => /\{[{%#]/.test(s);

/**
 * What Kestra gives for a string it has rendered: VariableRenderer.render strips every
 * `{% raw %}…{% endraw %}` from the result (its RAW_PATTERN, written here with Java's `.` and `\s`),
 * so no expression whatever brings such a value to a task intact. Keyway must add nothing to that.
 */
const JAVA_SPACE = "[ \\t\\n\\x0B\\f\\r]*";
const KESTRA_RAW = new RegExp(
  `\\{%-*${JAVA_SPACE}raw${JAVA_SPACE}-*%\\}([^\\n\\r\\u0085\\u2028\\u2029]*?)\\{%-*${JAVA_SPACE}endraw${JAVA_SPACE}-*%\\}`,
  "g",
);
const kestraOutput = (s: string) => s.replace(KESTRA_RAW, "$1");

/**
 * Renders a random flow; a key place holding a long value may be refused with the typed error for
 * YAML's 1,024-character limit on keys (escapes make a written key up to 6 times its value).
 */
async function renderFlow(
  f: { yaml: string; uses: { place: string; value: string }[]; secrets: Record<string, string> },
  mode: "final" | "pebble" | "jinja",
  allowTemplateSyntax = false,
): Promise<string | undefined> {
  try {
    const options = { namespace: "", format: "yaml", mode, allowTemplateSyntax } as const;
    return (await renderDocument(routerWith(f.secrets), f.yaml, options)).text;
  } catch (error) {
    const longKey = f.uses.some((u) => u.place === "key" && u.value.length > 1024 / 6 - 20);
    if (longKey && error instanceof TemplateError && /more than 1024 characters/.test(error.message))
      return undefined;
    throw error;
  }
}

/** Shows a string's code points, so a failure message tells NEL from a space. */
const show = (value: unknown) =>
  JSON.stringify(value)?.replace(/[^\x20-\x7e]/g, (c) => `\\u{${c.codePointAt(0)?.toString(16)}}`);

const RUNS = Number(process.env.KEYWAY_CONFORMANCE_RUNS ?? 150);

describe.skipIf(!kestraInstalled)("Kestra's engine reads Keyway's output (Jackson + Pebble)", () => {
  let kestra: KestraOracle;
  beforeAll(async () => {
    kestra = new KestraOracle();
    await kestra.ready;
  }, 60_000);
  afterAll(() => kestra?.close());

  const task = (tree: unknown) =>
    ((tree as { tasks: Record<string, unknown>[] }[])[0]?.tasks[0] ?? {}) as Record<string, unknown>;

  it("mode final: Jackson reads each value exactly; Pebble leaves it as it is unless it holds template syntax", async () => {
    await fc.assert(
      fc.asyncProperty(flow, async (f) => {
        const { uses } = f;
        // Mode final refuses a value an engine would evaluate ({{ {% {#}, unless told no engine
        // reads the output; allowed, the text must still be exactly the value for YAML readers.
        const safe = await renderFlow(f, "final").catch((e: unknown) => e);
        const text = await renderFlow(f, "final", true);
        const evaluable = uses.some((u) => hasTemplateSyntax(u.value));
        if (safe instanceof TemplateError) expect(evaluable, (safe as Error).message).toBe(true);
        else if (!evaluable) expect(safe).toBe(text);
        if (text === undefined) return;
        const { tree, rendered } = await kestra.read(text, true);
        for (const use of uses) {
          const left = use.at.leftInFinal?.(use.before, use.after);
          if (left !== undefined) {
            expect(use.at.get(task(tree)), `${use.place} in\n${text}`).toBe(left);
            continue;
          }
          const expected = use.at.expected(use.value, use.before, use.after);
          expect(show(use.at.get(task(tree))), `${use.place} in\n${text}`).toBe(show(expected));
          // Kestra evaluates every string holding '{': one with {{ {% {# in the value cannot be
          // final text for Kestra (it is for other readers; use --mode pebble for Kestra).
          if (!hasTemplateSyntax(expected))
            expect(show(use.at.get(task(rendered))), `${use.place} evaluated, in\n${text}`).toBe(
              show(expected),
            );
        }
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it("mode pebble: Jackson then Pebble give each value exactly", async () => {
    await fc.assert(
      fc.asyncProperty(flow, async (f) => {
        const { uses } = f;
        const text = await renderFlow(f, "pebble");
        if (text === undefined) return;
        const { rendered } = await kestra.read(text, true);
        for (const use of uses) {
          const expected = kestraOutput(use.at.expected(use.value, use.before, use.after));
          expect(show(use.at.get(task(rendered))), `${use.place} in\n${text}`).toBe(show(expected));
        }
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  // Each of these failed before the fix: Pebble unescapes only the quote, so '\\' stayed two
  // characters, and SnakeYAML folds a NEL written as is.
  const REGRESSIONS: Record<string, string> = {
    "a JSON credential with \\n in it": '{"private_key":"-----BEGIN KEY-----\\nMIIE\\n-----END KEY-----\\n"}',
    "Windows path": "C:\\new\\table",
    "a trailing backslash": "secret\\",
    "a backslash before a quote": "it\\'s",
    "an odd run of backslashes before a quote": "a\\\\\\'b",
    "{% raw %}…{% endraw %} inside the value (Kestra strips it from every result, nothing more)":
      "x{% raw %}y{% endraw %}z",
    "NEL, U+2028, U+2029": "a\u0085b\u2028c\u2029d",
    "C1 controls SnakeYAML refuses as is": "a\u0080b\u009fc\u007fd",
  };
  for (const [name, value] of Object.entries(REGRESSIONS)) {
    for (const mode of ["final", "pebble"] as const) {
      it(`trust issue #18 point 11: ${name}, mode ${mode}`, async () => {
        const yaml = `id: f\nnamespace: company.team\ntasks:\n  - id: t\n    type: io.kestra.plugin.core.log.Log\n    a: "{{ secret('V') }}"\n    b: '{{ secret(''V'') }}'\n    c: Bearer {{ secret('V') }}\n    d: |\n      {{ secret('V') }}\n`;
        const { text } = await renderDocument(routerWith({ V: value }), yaml, {
          namespace: "",
          format: "yaml",
          mode,
          allowTemplateSyntax: true, // final: the YAML must hold the value exactly, for readers without an engine
        });
        const { tree, rendered } = await kestra.read(text, true);
        const got = mode === "final" && hasTemplateSyntax(value) ? task(tree) : task(rendered);
        const expected = [value, value, `Bearer ${value}`, `${value}\n`];
        expect([got.a, got.b, got.c, got.d].map(show)).toEqual(
          (got === task(tree) ? expected : expected.map(kestraOutput)).map(show),
        );
      });
    }
  }
  it("trust issue #18 point 11: full=true in mode pebble is a map Pebble can read .value of", async () => {
    const yaml = `a: "{{ secret('V', full=true).value }}"\n`;
    const { text } = await renderDocument(routerWith({ V: "p\\'w" }), yaml, {
      namespace: "",
      format: "yaml",
      mode: "pebble",
    });
    const { rendered } = await kestra.read(text, true);
    expect(rendered).toEqual([{ a: "p\\'w" }]);
  });

  it("trust issue #18 point 11: a value's {% raw %} does not pair with the property's own {% endraw %}", async () => {
    const yaml = `a: "{{ secret('V') }} {% raw %}{{ kept }}{% endraw %}"\n`;
    const { text } = await renderDocument(routerWith({ V: "{% raw %}" }), yaml, {
      namespace: "",
      format: "yaml",
      mode: "pebble",
    });
    const { rendered } = await kestra.read(text, true);
    // Before the fix the value's `{% raw %}` paired with the property's `{% endraw %}` in Kestra's
    // pre-processing and Pebble failed; now the value reaches Kestra's output step as written.
    expect(rendered).toEqual([{ a: kestraOutput("{% raw %} {% raw %}{{ kept }}{% endraw %}") }]);
  });
});

describe.skipIf(!kestraInstalled || !jinjaInstalled)("Jinja2 renders Keyway's jinja output", () => {
  let kestra: KestraOracle;
  let jinja: JinjaOracle;
  beforeAll(async () => {
    kestra = new KestraOracle();
    jinja = new JinjaOracle();
    await Promise.all([kestra.ready, jinja.ready]);
  }, 60_000);
  afterAll(() => Promise.all([kestra?.close(), jinja?.close()]));

  it("mode jinja: a template's value literal renders to the value exactly", async () => {
    await fc.assert(
      fc.asyncProperty(secretValue, prefix, suffix, async (value, before, after) => {
        const out = await routerWith({ V: value }).render(`${before}{{ secret('V') }}${after}`, {
          namespace: "",
          mode: "jinja",
        });
        expect(show(await jinja.render(out)), out).toBe(show(`${before}${value}${after}`));
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it("mode jinja: a flow read by Jackson, each string rendered by Jinja2, gives each value exactly", async () => {
    await fc.assert(
      fc.asyncProperty(flow, async (f) => {
        const { uses } = f;
        const text = await renderFlow(f, "jinja");
        if (text === undefined) return;
        const { tree } = await kestra.read(text, false);
        for (const use of uses) {
          const expected = use.at.expected(use.value, use.before, use.after);
          const got = await jinja.render(
            use.at.get((tree as { tasks: Record<string, unknown>[] }[])[0]?.tasks[0] ?? {}) as string,
          );
          expect(show(got), `${use.place} in\n${text}`).toBe(show(expected));
        }
      }),
      { numRuns: RUNS },
    );
  }, 300_000);
});
