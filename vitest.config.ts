import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string, entry = "index.ts") => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}`, import.meta.url));

// Tests run against the TypeScript sources, so `npm test` needs no build between edits.
const alias = [
  { find: /^@keyway\/core\/config$/, replacement: src("core", "config/index.ts") },
  { find: /^@keyway\/core\/testing$/, replacement: src("core", "testing/index.ts") },
  { find: /^@keyway\/core$/, replacement: src("core") },
  { find: /^@keyway\/(backend-[a-z]+|cli)$/, replacement: fileURLToPath(new URL("./packages/$1/src/index.ts", import.meta.url)) },
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["test/reliability/**", "test/backends/**", "**/node_modules/**"],
        },
      },
    ],
  },
});
