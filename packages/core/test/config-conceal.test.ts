// Trust issue #18 point 6: the config loader must never echo what a `${VAR}` expanded to, in any
// error it raises (its own messages, zod's, a backend schema's, the router's, a cause). Each case
// below puts a hostile value in a variable at a place where one kind of error quotes its input;
// the error must name the variable and hold neither the value nor an encoding of it.
import util from "node:util";
import { describe, expect, it } from "vitest";
import { createRouterFromConfig, loadConfiguredRouter, parseConfig } from "../src/config/index.js";
import { ConfigurationError, derivedForms } from "../src/internal.js";

/** Loads `text` with `env` and returns the error it fails with. */
async function failure(text: string, env: Record<string, string>): Promise<Error> {
  try {
    // strict: a problem inside one backend's options fails the load (else it fails on use).
    await createRouterFromConfig(parseConfig(text, { env }), { env, strict: true });
  } catch (error) {
    return error as Error;
  }
  throw new Error("the config loaded");
}

/** Everything of an error a user or a log could see. */
function shown(error: Error): string {
  const cause = error.cause as Error | undefined;
  return [
    error.message,
    error.stack,
    JSON.stringify(error),
    util.inspect(error, { depth: 5 }),
    cause?.message,
    cause?.stack,
  ].join("\n");
}

function expectConcealed(error: Error, variable: string, value: string): void {
  expect(error).toBeInstanceOf(ConfigurationError);
  const text = shown(error);
  // Every form long enough to be masked anywhere (shorter ones may be ordinary words).
  const { plain, encoded } = derivedForms(value);
  for (const form of [value, ...plain, ...encoded].filter((f) => f.length >= 8))
    expect(text).not.toContain(form);
  expect(error.message).toContain(variable);
}

const HEAD = "backends:\n  e: { type: env }\n";
const RULES = "namespaces:\n  - { match: '', backend: e }\n";

// Each case: where a value can be echoed, the variable's hostile value, and the config.
const CASES: Array<[string, string, string]> = [
  [
    "an unknown backend type (the package name)",
    "zq-hostile-secret-token-9",
    `${HEAD}  x: { type: "\${V}" }\n${RULES}`,
  ],
  [
    "a rule naming an undefined backend",
    "Hostile_Secret_Token_42",
    `${HEAD}namespaces:\n  - { match: '', backend: "\${V}" }\n`,
  ],
  [
    "a fallback naming an undefined backend",
    "Hostile_Secret_Token_43",
    `${HEAD}namespaces:\n  - { match: '', backend: e, fallback: ["\${V}"] }\n`,
  ],
  [
    "an unrecognized top-level key (zod quotes it)",
    'hostile "key" \\ </x> ünï\u2028 s3cr3t',
    `${HEAD}${RULES}"\${V}": 1\n`,
  ],
  [
    "an unrecognized backend option (the backend's schema)",
    "hostile-option-s3cr3t'\"\\",
    `${HEAD}  x: { type: env, "\${V}": 1 }\n${RULES}`,
  ],
  [
    "an unknown memory option (the built-in schema's own message)",
    "hostile-memory-s3cr3t-value",
    `${HEAD}  m: { type: memory, "\${V}": 1 }\n${RULES}`,
  ],
  [
    "a backend name that is not a valid name (the path in the message)",
    "hostile backend s3cr3t/value",
    `backends:\n  "\${V}": { type: env }\n${RULES}`,
  ],
  [
    "two rules with the same match (the router's own message)",
    "company.Hostile_S3cret_Ns",
    `${HEAD}namespaces:\n  - { match: '', backend: e }\n  - { match: "\${V}", backend: e }\n  - { match: "\${V}", backend: e }\n`,
  ],
  ["a bad duration", "hostile-duration-s3cr3t", `${HEAD}${RULES}timeout: "\${V}"\n`],
  [
    "an audit file path holding a NUL byte (Node's file errors quote paths)",
    "/var/log/hostile-s3cr3t\0.jsonl",
    `${HEAD}${RULES}audit: { file: "\${V}" }\n`,
  ],
  [
    "an invalid namespace",
    "hostile namespace s3cr3t!",
    `${HEAD}namespaces:\n  - { match: "\${V}", backend: e }\n`,
  ],
];

describe("config errors never echo an expanded ${VAR} (trust issue #18 point 6)", () => {
  for (const [what, value, text] of CASES) {
    it(what, async () => {
      expectConcealed(await failure(text, { V: value }), "V", value);
    });
  }

  it("the same through loadConfiguredRouter, which also says which variables the config read", async () => {
    const env = { V: "Hostile_Secret_Token_44", OTHER: "x" };
    const { writeFile } = await import("node:fs/promises");
    const { tempDir } = await import("../../../test/setup/temp-dirs.js");
    const dir = await tempDir("keyway-conceal-");
    const file = `${dir}/keyway.yaml`;
    await writeFile(file, `${HEAD}namespaces:\n  - { match: '', backend: "\${V}" }\n`);
    const error = await loadConfiguredRouter({ path: file, env }).catch((e: Error) => e);
    expectConcealed(error as Error, "V", env.V);
    await writeFile(file, `backends:\n  e: { type: env, prefix: "\${PFX}" }\n${RULES}`);
    const loaded = await loadConfiguredRouter({ path: file, env: { PFX: "MYAPP_" } });
    expect(loaded.environment.variables).toEqual(["PFX"]);
    // The env backend configured with a prefix reads the variables with that prefix.
    expect(loaded.environment.credentials.secret).toContain("MYAPP_*");
    await loaded.router.close();
  });
});
