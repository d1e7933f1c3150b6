/**
 * Rendering a flow an executor has already parsed: every string in plain objects and arrays
 * (keys too, as Kestra renders a map's keys) is rendered as a template, all at once, and a new
 * value of the same shape is returned. Nothing is serialized, so a value with quotes or line
 * breaks is just a string.
 */
import { TemplateError } from "./errors.js";
import type { RenderOptions } from "./render.js";

/** What renders the strings: a `Router` (or anything with its `renderMany`). */
export interface TemplateRenderer {
  renderMany(texts: readonly string[], options: RenderOptions): Promise<string[]>;
}

const TEMPLATED = /\{\{|\{%/;

/**
 * Renders every string property of `value` (plain objects, arrays, strings; other values are kept
 * as they are) and returns the rendered copy; `value` is not changed.
 * @throws TemplateError when two keys of one object render to the same key
 * @example
 * const task = await renderProperties(router, flow.tasks[0], { namespace: flow.namespace });
 */
export async function renderProperties<T>(
  renderer: TemplateRenderer,
  value: T,
  options: RenderOptions,
): Promise<T> {
  // Each distinct string once: a flow repeats its templates (the same header in every task).
  const found = new Set<string>();
  collect(value, found);
  const texts = [...found];
  const outputs = await renderer.renderMany(texts, options);
  const rendered = new Map(texts.map((text, i) => [text, outputs[i] as string]));
  return rebuild(value, rendered, []) as T;
}

function collect(value: unknown, into: Set<string>): void {
  if (typeof value === "string") {
    if (TEMPLATED.test(value)) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, into);
  } else if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) {
      collect(key, into);
      collect(item, into);
    }
  }
}

function rebuild(value: unknown, rendered: ReadonlyMap<string, string>, path: readonly string[]): unknown {
  if (typeof value === "string") return rendered.get(value) ?? value;
  if (Array.isArray(value)) return value.map((item, i) => rebuild(item, rendered, [...path, String(i)]));
  if (!isPlainObject(value)) return value;
  // Same prototype as the input (Object's, or none for yaml's and Object.create(null)'s maps).
  const out = Object.create(Object.getPrototypeOf(value)) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) {
    const name = rendered.get(key) ?? key;
    if (Object.hasOwn(out, name))
      throw new TemplateError(`Two keys of ${path.join(".") || "the top level"} render to the same key.`);
    // Defined, not assigned: `out.__proto__ = …` would set the prototype (an own `__proto__` key
    // is what JSON.parse and yaml give for `"__proto__": …`) instead of keeping the key as data.
    Object.defineProperty(out, name, { value: rebuild(item, rendered, [...path, key]), ...DATA });
  }
  return out;
}

/** An ordinary own property, as assignment would create it. */
const DATA = { writable: true, enumerable: true, configurable: true } as const;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
