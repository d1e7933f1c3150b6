// Found by the conformance work of trust issue #18 point 11: Kestra renders every property that
// holds `{`, so a value written raw by mode `final` is evaluated by the engine after Keyway. A
// secret holding `{{ secret('OTHER') }}` would read another secret; `{% %}` would run a tag. Mode
// final refuses such a value unless told no engine reads the output; pebble and jinja write it as
// a string literal, which the engine does not evaluate.
import { describe, expect, it } from "vitest";
import { renderDocument } from "../src/document.js";
import { createMemoryBackend, createRouter, renderProperties, TemplateError } from "../src/index.js";

const HOSTILE = ["{{ secret('OTHER') }}", "p{%raw%}w", "a{#b", "{{7*7}}"];

function routerWith(value: string) {
  return createRouter({
    backends: {
      m: createMemoryBackend({
        initial: { "team/TOKEN": value, "team/OTHER": "other-secret", "team/PLAIN": "x{y}z" },
      }),
    },
    rules: [{ match: "", backend: "m" }],
  });
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error,
  );

describe("mode final never writes template syntax for the engine to evaluate", () => {
  it.each(HOSTILE)("a value holding %j is a TemplateError naming the key, never the value", async (value) => {
    const router = routerWith(value);
    for (const attempt of [
      router.render("token: {{ secret('TOKEN') }}", { namespace: "team" }),
      renderProperties(
        router,
        { headers: { Authorization: "{{ secret('TOKEN') }}" } },
        { namespace: "team" },
      ),
      renderDocument(router, "token: \"{{ secret('TOKEN') }}\"\n", { namespace: "team", format: "yaml" }),
    ]) {
      const error = await failure(attempt);
      expect(error).toBeInstanceOf(TemplateError);
      expect(error?.message).toContain("'TOKEN'");
      expect(error?.message).toMatch(/mode pebble or jinja/);
      expect(error?.message).not.toContain(value);
    }
  });

  it("the same value renders as a literal in modes pebble and jinja, and raw when allowed", async () => {
    const router = routerWith("{{ secret('OTHER') }}");
    expect(await router.render("{{ secret('TOKEN') }}", { namespace: "team", mode: "pebble" })).toBe(
      "{{ '{{ secret(\\'OTHER\\') }}' }}",
    );
    expect(
      await router.render("{{ secret('TOKEN') }}", { namespace: "team", allowTemplateSyntax: true }),
    ).toBe("{{ secret('OTHER') }}");
  });

  it("ordinary braces are not template syntax", async () => {
    expect(await routerWith("v").render("{{ secret('PLAIN') }}", { namespace: "team" })).toBe("x{y}z");
  });

  it("envs values are held to the same rule", async () => {
    const router = createRouter({
      backends: { m: createMemoryBackend() },
      rules: [{ match: "", backend: "m" }],
      envs: { greeting: "{{ secret('OTHER') }}" },
    });
    expect(await failure(router.render("{{ envs.greeting }}", { namespace: "team" }))).toBeInstanceOf(
      TemplateError,
    );
  });
});
