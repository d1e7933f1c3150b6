// A copy interrupted in the middle by a real server-side failure, then resumed.
//
// The mechanism: the first run writes to OpenBao with a token created with `num_uses`. OpenBao
// itself counts every request made with it and revokes it after the last use, so the server
// starts answering 403 "permission denied" part-way through the copy, as it does when an
// operator revokes a token or a lease ends mid-run. Nothing in the client is wrapped or faked.
// (Stopping moto or OpenBao mid-copy would not do: both keep their data in memory, so a restarted
// server would have lost what the first run wrote, and there would be nothing to resume.)
//
// Counting uses: with the destination namespace one level below the root, planning asks OpenBao
// once per key (a read that 404s; the root level is the env backend, which is no request), and
// each put is two requests (the KV v2 custom metadata, then its data). So a token of
// KEYS + 2 × DONE uses lets the plan and DONE puts through and fails the rest. The assertions do
// not depend on that arithmetic being exact: they check that some keys were written and some
// failed, that the re-run skips exactly what the first run left behind, and the end state.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { baoApi, configDir, findLeak, keyway, serversMissing, summary, vaultBackend } from "./helpers.js";

const bao = vaultBackend();

const KEYS = 40;
const DONE = 15;

describe.skipIf(serversMissing)("a copy interrupted by the destination, resumed", () => {
  it("the re-run skips the keys already written, creates the rest, and the end state equals the source", async () => {
    const source = new Map<string, string>();
    for (let i = 0; i < KEYS; i++)
      source.set(`RESUME_${String(i).padStart(2, "0")}`, `resume-${i}-${randomBytes(10).toString("hex")}`);
    const env = Object.fromEntries(
      [...source].map(([k, v]) => [`SECRET_${k}`, Buffer.from(v).toString("base64")]),
    );
    const dir = await configDir({ rules: [{ match: "resume", backend: "bao" }] });
    const copy = ["copy", "--from-namespace", "", "--to-namespace", "resume"];

    const { auth } = await baoApi<{ auth: { client_token: string } }>("POST", "auth/token/create", {
      num_uses: KEYS + 2 * DONE,
      policies: ["root"],
      ttl: "10m",
    });
    const interrupted = await keyway(dir, copy, env, auth.client_token);
    expect(interrupted.code, interrupted.stderr).toBe(4); // denied: the token is gone
    const first = summary(interrupted.stderr);
    expect(first.created).toBeGreaterThan(0);
    expect(first.failed).toBeGreaterThan(0);
    expect(first.created + first.failed).toBe(KEYS);
    expect(interrupted.stderr).toMatch(/failed RESUME_\d+: Vault denied write access/);
    const written = ((await bao.list?.("resume")) ?? []).map((l) => l.key);
    // A put cut off after its metadata write leaves no version: it reads as absent and is redone.
    expect(written.length).toBeGreaterThanOrEqual(first.created);
    expect(written.length).toBeLessThanOrEqual(first.created + 1);
    expect(written.length).toBeLessThan(KEYS);

    const resumed = await keyway(dir, copy, env); // the root token again
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(summary(resumed.stderr)).toEqual({
      created: KEYS - written.length,
      overwritten: 0,
      skipped: written.length,
      failed: 0,
      dryRun: false,
    });
    const skippedLines = resumed.stderr.match(/copying \d+\/\d+: RESUME_\d+/g) ?? [];
    expect(skippedLines).toHaveLength(KEYS); // every key was planned and stepped through

    const refs = [...source.keys()].map((key) => ({ namespace: "resume", key }));
    const got = (await bao.getMany?.(refs)) ?? new Map();
    const end = Object.fromEntries(
      refs.map((ref) => {
        const v = got.get(ref);
        return [ref.key, v && !(v instanceof Error) ? v.reveal() : String(v)];
      }),
    );
    expect(end).toEqual(Object.fromEntries(source));
    expect(
      findLeak(interrupted.stdout + interrupted.stderr + resumed.stderr, source.values()),
    ).toBeUndefined();
  });
});
