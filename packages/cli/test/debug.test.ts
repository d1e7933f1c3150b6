// Trust issue #18 point 5: under KEYWAY_DEBUG=1 the CLI printed an unexpected error's stack as it
// was, so a value quoted by a Node or SDK error reached stderr. The debug output goes through the
// redactor, with every value Keyway holds registered. The command here is replaced by one that
// fails the way such errors do: a TypeError quoting the values it was handed.
import { describe, expect, it, vi } from "vitest";
import { b64, cli } from "./harness.js";

vi.mock("../src/commands/read.js", async (original) => {
  const { withRouter } = await import("../src/context.js");
  return {
    ...(await original<typeof import("../src/commands/read.js")>()),
    get: async (io: { env: Record<string, string | undefined> }, global: object, key: string) =>
      withRouter(io as never, global, async (router) => {
        const value = (await router.resolve({ namespace: "", key })).reveal();
        const other = Buffer.from(io.env.SECRET_OTHER ?? "", "base64").toString("utf8");
        throw new TypeError(`cannot use '${value}', '${other}' or '${io.env.VAULT_TOKEN}'`);
      }),
  };
});

const RESOLVED = "resolved-secret-value-1";
const OTHER = "unresolved-other-secret-2";
const VAULT_TOKEN = "hvs.CAESIJ1vFm8bQx3Lk2Zp0qWnE7tYr4uIoP9aSdFgHjKl";

describe("KEYWAY_DEBUG output (trust issue #18 point 5)", () => {
  it("an unexpected error's stack is printed with every value Keyway holds masked", async () => {
    const env = { SECRET_API: b64(RESOLVED), SECRET_OTHER: b64(OTHER), VAULT_TOKEN, KEYWAY_DEBUG: "1" };
    const r = await cli(["get", "API"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("keyway: unexpected TypeError");
    expect(r.stderr).toContain("TypeError: cannot use '******', '******' or '******'");
    for (const value of [RESOLVED, OTHER, VAULT_TOKEN]) expect(r.stderr).not.toContain(value);
  });
});
