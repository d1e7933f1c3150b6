import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { documentReferences, formatOf, renderDocument } from "../src/document.js";
import {
  createMemoryBackend,
  createRouter,
  MultipleSecretsError,
  renderProperties,
  type SecretBackend,
  SecretNotFoundError,
  TemplateError,
} from "../src/index.js";
import { scriptedBackend } from "./helpers.js";

const corpus = new URL("../../../test/fixtures/flows/", import.meta.url);
const flows = readdirSync(corpus).filter((name) => formatOf(name) !== "text");

/** Values that break text substitution (issue #13), each realistic. */
const PEM = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun
VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK
LxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo
-----END RSA PRIVATE KEY-----
`;
const SERVICE_ACCOUNT = JSON.stringify(
  {
    type: "service_account",
    project_id: "acme-analytics",
    private_key_id: "1f0e4f8d2c",
    private_key: PEM,
    client_email: "kestra@acme-analytics.iam.gserviceaccount.com",
    token_uri: "https://oauth2.googleapis.com/token",
  },
  null,
  2,
);
const KINDS: Record<string, string> = {
  "double quote": 'pa"ss"w0rd with "quotes"',
  "PEM key": PEM,
  "JSON credential": SERVICE_ACCOUNT,
  backslash: "C:\\Users\\svc\\tok\\en\\n ^\\d+$ \\",
};

/** A router whose every key in every namespace holds `value`. */
function routerHolding(value: string) {
  const backend: SecretBackend = {
    ...createMemoryBackend(),
    name: "all",
    async get() {
      const { SecretValue } = await import("../src/index.js");
      return SecretValue.fromText(value);
    },
  };
  return createRouter({ backends: { all: backend }, rules: [{ match: "", backend: "all" }] });
}

type Router = ReturnType<typeof createRouter>;

/** Kestra's result: the file parsed first, then each string rendered as a template of its own. */
async function perProperty(
  router: Router,
  text: string,
  namespace: string,
  allowTemplateSyntax = false,
): Promise<unknown[]> {
  const parsed = parseAllDocuments(text).map((d) => d.toJS());
  return Promise.all(parsed.map((doc) => renderProperties(router, doc, { namespace, allowTemplateSyntax })));
}

function parsedAll(text: string): unknown[] {
  const documents = parseAllDocuments(text);
  for (const d of documents) expect(d.errors).toEqual([]);
  return documents.map((d) => d.toJS());
}

describe("renderDocument on the flow corpus (issue #13)", () => {
  it("has flows with secret() calls in every YAML style", () => {
    expect(flows.length).toBeGreaterThanOrEqual(10);
    for (const name of flows)
      expect(
        documentReferences(readFileSync(new URL(name, corpus), "utf8"), formatOf(name)).length,
      ).toBeGreaterThan(0);
  });

  for (const [kind, value] of Object.entries(KINDS)) {
    it(`keeps the exact value in every property, for a ${kind}`, async () => {
      const router = routerHolding(value);
      for (const name of flows) {
        const text = readFileSync(new URL(name, corpus), "utf8");
        const format = formatOf(name);
        const { text: out } = await renderDocument(router, text, { namespace: "company.team", format });
        if (format === "json") expect(JSON.parse(out)).toEqual((await perProperty(router, text, "x"))[0]);
        else expect(parsedAll(out), name).toEqual(await perProperty(router, text, "x"));
      }
    });
  }

  it("the same values through text substitution break the files (why structured rendering exists)", async () => {
    let broken = 0;
    let total = 0;
    for (const value of Object.values(KINDS)) {
      const router = routerHolding(value);
      for (const name of flows.filter((n) => formatOf(n) === "yaml")) {
        const text = readFileSync(new URL(name, corpus), "utf8");
        total++;
        const out = await router.render(text, { namespace: "company.team" });
        const documents = parseAllDocuments(out);
        const same =
          documents.every((d) => d.errors.length === 0) &&
          JSON.stringify(documents.map((d) => d.toJS())) ===
            JSON.stringify(await perProperty(router, text, "x"));
        if (!same) broken++;
      }
    }
    expect(broken / total).toBeGreaterThan(0.9);
  });

  it("writes back only the scalars that changed: comments, anchors, numbers and order stay byte for byte", async () => {
    const text = readFileSync(new URL("shell-script.yaml", corpus), "utf8");
    const { text: out } = await renderDocument(routerHolding("s3cr3t-value"), text, {
      namespace: "company.team.etl",
      format: "yaml",
    });
    const before = text.split("\n");
    const after = out.split("\n");
    expect(after).toHaveLength(before.length);
    for (const [i, line] of before.entries()) if (!line.includes("secret(")) expect(after[i]).toBe(line);
    expect(out).toContain('DB_PASSWORD: "s3cr3t-value"');
    expect(out).toContain("echo 's3cr3t-value' > /tmp/webhook.secret");
  });

  it("a document without templates is returned as it is, whatever its formatting", async () => {
    const text = "a:   1.50   # keep\nb: 0x1F\nc: [ x,  y ]\nd: 'it''s'\n";
    const { text: out } = await renderDocument(routerHolding("v"), text, { namespace: "", format: "yaml" });
    expect(out).toBe(text);
  });
});

describe("renderDocument styles", () => {
  const render = async (text: string, value: string, format: "yaml" | "json" = "yaml") =>
    (await renderDocument(routerHolding(value), text, { namespace: "", format })).text;

  it("writes a multi-line value as a block literal under its key", async () => {
    expect(await render("key: \"{{ secret('K') }}\" # pem\n", "line1\nline2\n")).toBe(
      "key: | # pem\n  line1\n  line2\n",
    );
  });

  it("quotes a value that plain style would read as another type, for YAML 1.2 and 1.1 readers", async () => {
    for (const value of ["123", "true", "null", "yes", "on", "1.5e3", "~"]) {
      const out = await render("a: v{{ secret('K') }}\nb: \"{{ secret('K') }}\"\n", value);
      expect(parsedAll(out)).toEqual([{ a: `v${value}`, b: value }]);
    }
    expect(await render("port: x{{ secret('K') }}\n", "")).toBe("port: x\n");
    expect(await render("port: '{{ secret(\"K\") }}'\n", "5432")).toBe("port: '5432'\n");
  });

  it("values yaml 2.9 writes wrongly in block or folded double quotes stay exact (found by the property test)", async () => {
    for (const value of [" \n", "a\n \nb", "\r\n ", "line \r\n \nnext\n", "\t\n", "x\u0007y\nz"]) {
      for (const text of [
        "p: \"{{ secret('K') }}\"\n",
        "p: |\n  at {{ secret('K') }}\n  end\n",
        "p:\n  - - '{{ secret(\"K\") }}'\n",
      ]) {
        const out = await render(text, value);
        expect(JSON.stringify(parsedAll(out))).toContain(JSON.stringify(value).slice(1, -1));
      }
    }
  });

  it("trust issue #18 point 11: NEL, U+2028/9, DEL, C1 and U+FFFE/F are written escaped in double quotes, for SnakeYAML", async () => {
    // SnakeYAML (Kestra's Jackson) reads a raw NEL, U+2028 or U+2029 as a line break and refuses
    // DEL, C1 and U+FFFE/F; checked against Jackson itself in test/conformance/engines.test.ts.
    const value = "a\u0085b\u2028c\u2029d\u007fe\u0080f\u009fg\uffffh";
    for (const text of [
      "p: \"{{ secret('K') }}\"\n",
      "p: '{{ secret(\"K\") }}'\n",
      "p: x {{ secret('K') }}\n",
      "p: |\n  {{ secret('K') }}\n",
      "p: [\"{{ secret('K') }}\"]\n",
      "\"{{ secret('K') }}\": v\n",
    ]) {
      const out = await render(text, value);
      expect(out, text).not.toMatch(/[\u007f-\u009f\u2028\u2029\ufffe\uffff]/);
      expect(out, text).toContain("\\x85b\\u2028c\\u2029d\\x7fe\\x80f\\x9fg\\uffffh");
      expect(JSON.stringify(parsedAll(out))).toContain(JSON.stringify(value).slice(1, -1));
    }
  });

  it("a key that renders past YAML's 1,024-character limit is a TemplateError naming the place", async () => {
    const error = await render("a: 1\n\"{{ secret('K') }}\": v\n", "k".repeat(1100)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as Error).message).toBe(
      "Line 2, column 5: a mapping key renders to more than 1024 characters, more than YAML allows in a key; use the secret in a value.",
    );
  });

  it("keeps a value on one line inside a flow collection and in a key", async () => {
    const out = await render("a: [ \"{{ secret('K') }}\", b ]\n\"{{ secret('K') }}\": c\n", "x\ny, ]");
    expect(out.split("\n")).toHaveLength(3);
    expect(parsedAll(out)).toEqual([{ a: ["x\ny, ]", "b"], "x\ny, ]": "c" }]);
  });

  it("an anchored string is rendered once and every alias sees it", async () => {
    const out = await render("a: &t \"{{ secret('K') }}\"\nb: *t\n", "v'\"");
    expect(parsedAll(out)).toEqual([{ a: "v'\"", b: "v'\"" }]);
    expect(out).toContain("b: *t");
  });

  it("renders JSON as JSON: exact values, the rest of the text untouched", async () => {
    const text = readFileSync(new URL("service-config.json", corpus), "utf8");
    const out = await render(text, SERVICE_ACCOUNT, "json");
    expect(JSON.parse(out).google.credentials).toBe(SERVICE_ACCOUNT);
    expect(out).toContain('\t"ratio": 1.50,');
    expect(out).toContain('"note": "literal \\"quotes\\" and a \\\\ stay as written"');
  });
});

describe("renderDocument input errors", () => {
  const attempt = (text: string, format: "yaml" | "json") =>
    renderDocument(routerHolding("v"), text, { namespace: "", format }).then(
      () => undefined,
      (error: unknown) => error as Error,
    );

  it("an unquoted {{ }} is a YAML mapping: the error says where and how to quote it", async () => {
    const error = await attempt("tasks:\n  - password: {{ secret('DB') }}\n", "yaml");
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toMatch(/^Line 2, column 15 \(tasks\.0\.password\): an unquoted/);
    expect(error?.message).toContain('"{{ secret(');
  });

  it("YAML that does not parse fails with its line and column, and no excerpt of the file", async () => {
    const error = await attempt("a: b\n  c: d: e\nsecret_line: hunter2\n", "yaml");
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toMatch(/^The document is not valid YAML at line 1, column 4: Nested mappings/);
    expect(error?.message).not.toContain("hunter2");
  });

  it("JSON that does not parse fails without quoting the file", async () => {
    const error = await attempt('{"password": "hunter2",}', "json");
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toMatch(/not valid JSON/);
    expect(error?.message).not.toContain("hunter2");
  });

  it("a malformed secret() call names the file's line and the property", async () => {
    const error = await attempt("a: 1\nb:\n  c: \"{{ secret('X' }}\"\n", "yaml");
    expect(error).toBeInstanceOf(TemplateError);
    expect(error?.message).toMatch(/^Line 3, column 6 \(b\.c\): Malformed secret\(\) call/);
  });

  it("every missing secret of every property is reported in one error, and nothing is written", async () => {
    const router = createRouter({
      backends: { m: createMemoryBackend() },
      rules: [{ match: "", backend: "m" }],
    });
    const error = await renderDocument(router, "a: \"{{ secret('A') }}\"\nb: [\"{{ secret('B') }}\"]\n", {
      namespace: "",
      format: "yaml",
    }).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MultipleSecretsError);
    expect((error as MultipleSecretsError).errors.map((e) => e.constructor)).toEqual([
      SecretNotFoundError,
      SecretNotFoundError,
    ]);
  });
});

describe("renderDocument reports what final mode leaves in place", () => {
  it("names line, column, path and key of each call inside a larger expression; never a value", async () => {
    const text = readFileSync(new URL("http-api.yaml", corpus), "utf8");
    const { unrendered, text: out } = await renderDocument(routerHolding("v4lue"), text, {
      namespace: "company.team.integrations",
      format: "yaml",
    });
    expect(unrendered.map((r) => [r.key, r.line, r.column, r.path])).toEqual([
      ["SIGNING_KEY", 25, 24, "tasks.1.headers.X-Signature"],
    ]);
    expect(text.split("\n")[24]?.slice(23)).toMatch(/^secret\('SIGNING_KEY'\)/);
    expect(out).toContain("{{ secret('SIGNING_KEY') | sha256 }}");
    const pebble = await renderDocument(routerHolding("v"), text, {
      namespace: "",
      format: "yaml",
      mode: "pebble",
    });
    expect(pebble.unrendered).toEqual([]);
  });

  it("in text format the positions are the file's own", async () => {
    const { unrendered } = await renderDocument(routerHolding("v"), "x\n  {{ json(secret('X')).y }}", {
      namespace: "",
    });
    expect(unrendered.map((r) => [r.key, r.line, r.column, r.path])).toEqual([["X", 2, 11, ""]]);
  });
});

describe("renderDocument resolves once for the whole document", () => {
  it("one batch for every secret of every property, each distinct secret once", async () => {
    const backend = scriptedBackend({ A: "a", B: "b", C: "c" }, { batch: true });
    const router = createRouter({ backends: { s: backend }, rules: [{ match: "", backend: "s" }] });
    await renderDocument(
      router,
      "x: \"{{ secret('A') }}\"\ny: [\"{{ secret('B') }}\", \"{{ secret('A') }}\"]\nz: \"{{ secret('C') }}\"\n",
      { namespace: "", format: "yaml" },
    );
    expect(backend.batchCalls.map((batch) => batch.map((r) => r.key).sort())).toEqual([["A", "B", "C"]]);
    expect(backend.calls).toEqual([]);
  });
});

describe("renderDocument property: parse(render(doc)) holds every value exactly", () => {
  const character = fc.constantFrom(
    ..."ab Z09'\"\\\n\t:#{}[],&*!|>%@`-?~=".split(""),
    ": ",
    " #",
    "{{ }}",
    "{{ secret('X') }}",
    "é",
    "😀",
    "\u2028",
    "---",
    "...",
    "\r\n",
  );
  const value = fc.array(character, { maxLength: 24 }).map((parts) => parts.join(""));
  /** Places a string property can be written in, each numbered so keys stay distinct. */
  const placements = [
    (i: number) => `p${i}: "{{ secret('K${i}') }}"`,
    (i: number) => `p${i}: 'pre {{ secret("K${i}") }} post'`,
    (i: number) => `p${i}: x{{ secret('K${i}') }}`,
    (i: number) => `p${i}: |\n  line {{ secret('K${i}') }}\n  next`,
    (i: number) => `p${i}: >-\n  {{ secret('K${i}') }}`,
    (i: number) => `p${i}: [ "{{ secret('K${i}') }}", 1 ]`,
    (i: number) => `p${i}: { k: "{{ secret('K${i}') }}" }`,
    // The `k${i}=` prefix keeps rendered keys distinct whatever the values are.
    (i: number) => `"k${i}={{ secret('K${i}') }}": key${i}`,
    (i: number) => `p${i}:\n  - "{{ secret('K${i}') }}" # c\n  - - '{{ secret("K${i}") }}'`,
    (i: number) => `p${i}: &a${i} "{{ secret('K${i}') }}"\nr${i}: *a${i}`,
  ];

  it("at every secret() property, and every other property equals parse(doc)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(placements.length - 1), value), { minLength: 1, maxLength: 6 }),
        async (picked) => {
          const initial = Object.fromEntries(picked.map(([, v], i) => [`/K${i}`, v]));
          const router = createRouter({
            backends: { m: createMemoryBackend({ initial }) },
            rules: [{ match: "", backend: "m" }],
          });
          const text = `# flow\nid: f\nn: 1.50\n${picked.map(([p], i) => (placements[p] as (i: number) => string)(i)).join("\n")}\n`;
          // Random values hold {{ }} too; the YAML must carry them exactly (see template-injection.test.ts
          // for why mode final refuses them by default).
          const options = { namespace: "", format: "yaml", allowTemplateSyntax: true } as const;
          const { text: out } = await renderDocument(router, text, options);
          expect(parsedAll(out)).toEqual(await perProperty(router, text, "", true));
          expect(out.startsWith("# flow\nid: f\nn: 1.50\n")).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    // 300 documents parsed, rendered and compared: ~5 s on a busy 2-core machine (no time is asserted).
  }, 30_000);

  it("JSON: parse(render(doc)) holds the values", async () => {
    await fc.assert(
      fc.asyncProperty(value, value, async (a, b) => {
        const router = createRouter({
          backends: { m: createMemoryBackend({ initial: { "/A": a, "/B": b } }) },
          rules: [{ match: "", backend: "m" }],
        });
        const text =
          '{ "a": "{{ secret(\'A\') }}",\n  "list": ["x{{ secret(\'B\') }}y", 2.50],\n  "{{ secret(\'B\') }}": 1 }';
        const options = { namespace: "", format: "json", allowTemplateSyntax: true } as const;
        const { text: out } = await renderDocument(router, text, options);
        expect(JSON.parse(out)).toEqual({ a, list: [`x${b}y`, 2.5], [b]: 1 });
      }),
    );
  });
});

describe("renderProperties (a flow the executor already parsed)", () => {
  it("renders strings and keys of plain data, returns a copy and keeps other values", async () => {
    const router = routerHolding(PEM);
    const date = new Date(0);
    const flow = {
      id: "f",
      n: 2,
      when: date,
      tasks: [{ key: "{{ secret('K') }}", "{{ secret('K') }}": true }],
    };
    const out = await renderProperties(router, flow, { namespace: "" });
    expect(out).toEqual({ id: "f", n: 2, when: date, tasks: [{ key: PEM, [PEM]: true }] });
    expect(flow.tasks[0]?.key).toBe("{{ secret('K') }}");
  });

  it("two keys that render to the same key are a TemplateError", async () => {
    const error = await renderProperties(
      routerHolding("same"),
      { a: { "{{ secret('X') }}": 1, same: 2 } },
      {
        namespace: "",
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as Error).message).toBe("Two keys of a render to the same key.");
  });
});
