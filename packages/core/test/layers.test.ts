// Core's rooms import downwards only (ARCHITECTURE.md): base ← backend call ← cache ← resolve
// (router/) ← router facade, with watch between resolve and the facade and the templates beside
// resolve. Type-only imports count: they tie the files together as much for a reader.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const src = path.resolve(__dirname, "../src");

/** Every .ts file under src, relative (`router/climb.ts`). */
function sources(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return entry.name.endsWith(".ts") ? [path.relative(src, full)] : [];
  });
}

/** The src files a file imports (relative specifiers only), as paths relative to src. */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(src, file), "utf8");
  const specifiers = [...text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1] as string);
  return specifiers.map((s) =>
    path.relative(src, path.resolve(path.dirname(path.join(src, file)), s)).replace(/\.js$/, ".ts"),
  );
}

const isRouter = (f: string) => f.startsWith("router/") || f === "router.ts";
const isRouterFacade = (f: string) => f === "router/index.ts" || f === "router.ts";
const isCache = (f: string) => /^(cache|entry|ref-memo)([./]|$)/.test(f);
const isWatch = (f: string) => /^watch([./-]|$)/.test(f);
const isTemplates = (f: string) => /^(render|template|engine-literal|document|properties)([./]|$)/.test(f);

const files = sources();
const edges = files.flatMap((from) => importsOf(from).map((to) => [from, to] as const));
const broken = (rule: (from: string, to: string) => boolean) =>
  edges.filter(([from, to]) => rule(from, to)).map(([from, to]) => `${from} → ${to}`);

describe("core's layers (ARCHITECTURE.md)", () => {
  it("sees the rooms it checks (the test would pass vacuously otherwise)", () => {
    expect(files.filter(isRouter).length).toBeGreaterThan(5);
    expect(files.some(isCache) && files.some(isWatch) && files.some(isTemplates)).toBe(true);
    expect(edges.length).toBeGreaterThan(50);
  });

  it("the cache never imports the router (nor its plans), watch or the templates", () => {
    expect(broken((from, to) => isCache(from) && (isRouter(to) || isWatch(to) || isTemplates(to)))).toEqual(
      [],
    );
  });

  it("watch never imports the router facade; of the router's rooms, only the plans (its levels)", () => {
    expect(broken((from, to) => isWatch(from) && isRouter(to) && to !== "router/plans.ts")).toEqual([]);
  });

  it("the templates never import the router or watch: render is handed a resolve function", () => {
    expect(broken((from, to) => isTemplates(from) && (isRouter(to) || isWatch(to)))).toEqual([]);
  });

  it("the router's rooms never import the facade, and only the facade imports watch", () => {
    expect(
      broken((from, to) => isRouter(from) && !isRouterFacade(from) && (isRouterFacade(to) || isWatch(to))),
    ).toEqual([]);
  });

  it("base modules (errors, ref, value, backend, subkey, audit, telemetry, redact) import only base", () => {
    const base = (f: string) =>
      /^(errors|ref|value|backend|subkey|audit|telemetry)\.ts$/.test(f) || f.startsWith("redact/");
    expect(broken((from, to) => base(from) && !base(to))).toEqual([]);
  });
});
