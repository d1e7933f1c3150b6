/**
 * The examples run as a user runs them (`node examples/…` after `npm run build`), so they cannot
 * rot (trust issue #20 point 7). The executor example is given hostile values: none may reach its
 * log in any form.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
const built = existsSync(path.join(root, "packages/core/dist/index.js"));

function run(example: string, env: Record<string, string> = {}) {
  expect(built, "run `npm run build` first (npm test does)").toBe(true);
  return spawnSync(process.execPath, [path.join(root, "examples", example)], {
    cwd: root,
    encoding: "utf8",
    env: { PATH: process.env.PATH, ...env },
  });
}

/** Every form a log line could carry a value in. */
const forms = (value: string) => [
  value,
  JSON.stringify(value).slice(1, -1),
  encodeURIComponent(value),
  Buffer.from(value).toString("base64"),
  ...value.split("\n").filter((line) => line.length >= 4),
];

describe("examples (trust issue #20 point 7)", () => {
  it("executor.mjs: pino masks every value, the flow's tasks render, a rotation is seen and masked", () => {
    const secrets = {
      EXAMPLE_DB_PASSWORD: `p"a\\s's {{ x }}\n—ü€🔑&=%/`,
      EXAMPLE_DB_PASSWORD_ROTATED: `r0t@ted:"\\"<xml>&amp;`,
      EXAMPLE_WEBHOOK: `https://hooks.example.test/services/T0001/B0002/q"w\\e?x=1&y=%20`,
    };
    const result = run("executor.mjs", secrets);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    for (const value of Object.values(secrets))
      for (const form of forms(value)) expect(result.stdout).not.toContain(form);

    const lines = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    const byMsg = (start: string) => lines.find((l) => String(l.msg).startsWith(start));
    expect(byMsg("task extract starts")?.task).toMatchObject({ password: "******", username: "******" });
    expect(byMsg("task notify starts")?.task).toMatchObject({
      url: "******",
      payload: '{"text": "{{ flow.id }} done"}',
    });
    expect(byMsg("connecting to")?.msg).toBe("connecting to postgresql://******:******@db:5432");
    const change = byMsg("DB rotated")?.change;
    expect(change).toMatchObject({ ref: { key: "DB" }, foundIn: "company.team", backend: "team" });
    expect(change.version).not.toBe(change.previousVersion);
    expect(byMsg("task extract restarts")?.task).toMatchObject({ password: "******" });
    expect(byMsg("old ")?.msg).toBe("old ******, new ******: both stay masked");
  });

  it("demo.mjs runs and masks its log line", () => {
    const result = run("demo.mjs");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("── a task's log line, through the redactor ──");
    expect(result.stdout).toContain("password=******");
  });
});
