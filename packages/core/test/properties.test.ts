// Trust issue #18 point 8: objects built from parsed input keep every own key as data. An own
// `__proto__` key (JSON.parse, yaml, lossless-json all create one) must not become the prototype.
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { renderDocument } from "../src/document.js";
import {
  createMemoryBackend,
  createRedactor,
  createRouter,
  extractSubkey,
  renderProperties,
  SubkeyNotFoundError,
} from "../src/internal.js";

const TOKEN = "ghp_R9tH2kLmQ8vXwZ4pYc7nB1sD";

/** A router whose memory backend holds `K` (a token) and `PROTO` (the text `__proto__`). */
function router() {
  return createRouter({
    backends: { m: createMemoryBackend({ initial: { K: TOKEN, PROTO: "__proto__" } }) },
    rules: [{ match: "", backend: "m" }],
  });
}

const ownData = (object: object, key: string) => Object.getOwnPropertyDescriptor(object, key);

describe("renderProperties keeps every own key as data (trust issue #18 point 8)", () => {
  it("an own __proto__ key of parsed JSON stays an own key, rendered, and the prototype stays Object's", async () => {
    const flow = JSON.parse(
      `{"id": "f", "__proto__": {"password": "{{ secret('K') }}", "polluted": true}, "tasks": [{"__proto__": "{{ secret('K') }}"}]}`,
    );
    const out = await renderProperties(router(), flow, { namespace: "" });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["id", "__proto__", "tasks"]);
    expect(ownData(out, "__proto__")?.value).toEqual({ password: TOKEN, polluted: true });
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(ownData(out.tasks[0], "__proto__")?.value).toBe(TOKEN);
    expect(JSON.parse(JSON.stringify(out))).toEqual(
      JSON.parse(
        `{"id": "f", "__proto__": {"password": "${TOKEN}", "polluted": true}, "tasks": [{"__proto__": "${TOKEN}"}]}`,
      ),
    );
  });

  it("a key that renders to __proto__ is an own key too, and collides with a literal one", async () => {
    const out = await renderProperties(router(), { "{{ secret('PROTO') }}": { a: 1 } }, { namespace: "" });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(ownData(out, "__proto__")?.value).toEqual({ a: 1 });
    const twice = JSON.parse(`{"__proto__": 1, "{{ secret('PROTO') }}": 2}`);
    await expect(renderProperties(router(), twice, { namespace: "" })).rejects.toThrow(
      /render to the same key/,
    );
  });

  it("a yaml-parsed flow (own __proto__, null-prototype documents kept as they are)", async () => {
    const flow = parseYaml(`__proto__:\n  token: "{{ secret('K') }}"\nid: f\n`);
    const out = await renderProperties(router(), flow, { namespace: "" });
    expect(Object.keys(out)).toEqual(["__proto__", "id"]);
    expect(ownData(out, "__proto__")?.value).toEqual({ token: TOKEN });
    const bare = Object.assign(Object.create(null), { k: "{{ secret('K') }}" });
    const copy = await renderProperties(router(), bare, { namespace: "" });
    expect(Object.getPrototypeOf(copy)).toBe(null);
    expect(copy.k).toBe(TOKEN);
  });

  it("renderDocument rewrites a __proto__ property of JSON and YAML in place", async () => {
    const json = `{"__proto__": {"t": "{{ secret('K') }}"}}`;
    const { text } = await renderDocument(router(), json, { namespace: "", format: "json" });
    expect(ownData(JSON.parse(text), "__proto__")?.value).toEqual({ t: TOKEN });
    const yaml = `__proto__:\n  t: "{{ secret('K') }}"\n`;
    const rendered = await renderDocument(router(), yaml, { namespace: "", format: "yaml" });
    expect(ownData(parseYaml(rendered.text), "__proto__")?.value).toEqual({ t: TOKEN });
  });
});

describe("the same class elsewhere (trust issue #18 point 8)", () => {
  it("redactDeep copies an own __proto__ key as a key, its strings masked", () => {
    const redactor = createRedactor();
    redactor.register(TOKEN, { key: "K" });
    const record = JSON.parse(`{"msg": "login", "__proto__": {"token": "${TOKEN}"}}`);
    const copy = redactor.redactDeep(record);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(ownData(copy, "__proto__")?.value).toEqual({ token: redactor.mask });
    expect(JSON.stringify(copy)).toBe(`{"msg":"login","__proto__":{"token":"${redactor.mask}"}}`);
  });

  it("subkey extraction reads an own __proto__ member and never an inherited name (guard)", () => {
    expect(extractSubkey(`{"__proto__": "s3cr3t-value"}`, "K", "__proto__")).toBe("s3cr3t-value");
    for (const inherited of ["__proto__", "constructor", "toString", "hasOwnProperty"])
      expect(() => extractSubkey(`{"user": "u"}`, "K", inherited)).toThrow(SubkeyNotFoundError);
  });
});
