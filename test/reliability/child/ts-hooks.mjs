// Module hooks that let a plain `node` child process run the TypeScript sources the way the
// Vitest aliases do: `@keyway/*` → packages/*/src, `./x.js` → `./x.ts`, and each `.ts` file
// transpiled (types stripped) with the repository's TypeScript. No build needed.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const ts = createRequire(`${root}package.json`)("typescript");

const ALIASES = [
  [/^@keyway\/core\/config$/, "packages/core/src/config/index.ts"],
  [/^@keyway\/core\/backend$/, "packages/core/src/backend-kit/index.ts"],
  [/^@keyway\/core$/, "packages/core/src/index.ts"],
  [/^@keyway\/test-servers$/, "packages/test-servers/src/index.ts"],
  [/^@keyway\/test-servers\/([a-z-]+)$/, "packages/test-servers/src/$1.ts"],
  [/^@keyway\/(backend-[a-z-]+)\/definition$/, "packages/$1/src/definition.ts"],
  [/^@keyway\/(backend-[a-z-]+|cli)$/, "packages/$1/src/index.ts"],
];

export async function resolve(specifier, context, next) {
  for (const [pattern, target] of ALIASES) {
    if (pattern.test(specifier)) {
      return { url: pathToFileURL(root + specifier.replace(pattern, target)).href, shortCircuit: true };
    }
  }
  if (context.parentURL?.endsWith(".ts") && /^\.\.?\/.*\.js$/.test(specifier)) {
    const candidate = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
    if (existsSync(fileURLToPath(candidate))) return { url: candidate.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith(".ts")) return next(url, context);
  const source = await readFile(fileURLToPath(url), "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: fileURLToPath(url),
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
      sourceMap: false,
    },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
