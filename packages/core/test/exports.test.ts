// The public surface of @keyway/core, entry by entry (issue 19 point 1): a name added to or
// removed from an entry fails here until packages/core/test/exports.json says so, so every change
// of the surface is a deliberate diff. `node scripts/list-exports.mjs --json` prints the lists.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listExports } from "../../../scripts/list-exports.mjs";

const committed: Record<string, string[]> = JSON.parse(
  readFileSync(new URL("./exports.json", import.meta.url), "utf8"),
);

describe("public exports", () => {
  const actual = listExports();

  it("every entry exports exactly its committed list (types and values)", () => {
    expect(Object.keys(actual).sort()).toEqual(Object.keys(committed).sort());
    for (const [entry, names] of Object.entries(committed)) expect(actual[entry], entry).toEqual(names);
  });

  it("the application entry stays small and holds none of core's internals", () => {
    const main = actual["."] ?? [];
    expect(main.length).toBeLessThanOrEqual(55); // about 50: each new name is a decision
    const internals = [
      "withDeadline",
      "loadSignal",
      "withRetry",
      "CircuitBreaker",
      "exitCodeFor",
      "worstError",
    ];
    for (const entry of Object.values(actual)) expect(entry.filter((n) => internals.includes(n))).toEqual([]);
  });

  it("the built runtime values match the declared ones", async () => {
    const values = Object.keys(await import("../src/index.js")).sort();
    expect(values.every((name) => actual["."]?.includes(name))).toBe(true);
  });
});
