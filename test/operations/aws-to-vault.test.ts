// `keyway copy` between two real servers of different kinds: AWS Secrets Manager (moto) →
// Vault KV v2 (OpenBao), with its audit trail (keyway.yaml `audit: { file }`) and a subscriber on
// all four diagnostics channels; and a dry run that must leave the destination as it was.
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { AuditEvent, SecretMetadata } from "@keyway/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  awsBackend,
  configDir,
  findLeak,
  keyway,
  recordChannels,
  serversMissing,
  summary,
  vaultBackend,
} from "./helpers.js";

const aws = awsBackend();
const bao = vaultBackend();

interface Seed {
  key: string;
  value: string | Uint8Array;
  metadata: { description?: string; tags?: Record<string, string> };
}

/** Text of several shapes, bytes that are not UTF-8, and description / tags on some. */
function seeds(count: number): Seed[] {
  return Array.from({ length: count }, (_, i) => {
    const noise = randomBytes(10).toString("hex");
    const key = `MOVE_${String(i).padStart(3, "0")}`;
    const value =
      i % 5 === 0
        ? new Uint8Array([0xff, 0x00, 0xfe, 0x80, ...randomBytes(24), 0x00]) // binary, invalid UTF-8
        : i % 5 === 1
          ? JSON.stringify({ username: `user-${i}`, password: noise })
          : `value-${i}-${noise}`;
    const metadata =
      i % 3 === 0
        ? { description: `seeded ${i}`, tags: { team: "payments", tier: i % 2 ? "gold" : "silver" } }
        : {};
    return { key, value, metadata };
  });
}

/** Reads `keys` in `namespace` from the Vault backend directly. */
async function readVault(namespace: string, keys: readonly string[]) {
  const refs = keys.map((key) => ({ namespace, key }));
  const got = (await bao.getMany?.(refs)) ?? new Map();
  return refs.map((ref) => got.get(ref));
}

const bytesOf = (v: string | Uint8Array) => Buffer.from(typeof v === "string" ? Buffer.from(v) : v);

describe.skipIf(serversMissing)("moto → OpenBao", () => {
  const source = seeds(100);
  const values = source.map((s) => s.value);
  let dir = "";
  let auditFile = "";
  let copy: Awaited<ReturnType<typeof keyway>>;
  let channels: ReturnType<typeof recordChannels>["events"];
  let copyMs = 0;

  beforeAll(async () => {
    for (const s of source) await aws.put?.({ namespace: "src", key: s.key }, s.value, s.metadata);
    // Keys in a child namespace belong to it, not to 'src': a copy of 'src' must leave them.
    await aws.put?.({ namespace: "src.child", key: "NESTED" }, `nested-${randomBytes(8).toString("hex")}`);
    const scratch = await configDir();
    auditFile = path.join(scratch, "audit.jsonl");
    dir = await configDir({
      rules: [
        { match: "src", backend: "aws" },
        { match: "dst", backend: "bao" },
      ],
      auditFile,
    });
    const recorder = recordChannels();
    const started = performance.now();
    try {
      copy = await keyway(dir, ["copy", "--from-namespace", "src", "--to-namespace", "dst"]);
    } finally {
      copyMs = performance.now() - started;
      recorder.stop();
    }
    channels = recorder.events;
    console.log(`[keyway] moto → OpenBao copy of ${source.length} secrets: ${Math.round(copyMs)} ms`);
  });

  it("copies every key of the namespace (not its children), values identical, bytes stay bytes", async () => {
    expect(copy.code, copy.stderr).toBe(0);
    expect(summary(copy.stderr)).toEqual({
      created: source.length,
      overwritten: 0,
      skipped: 0,
      failed: 0,
      dryRun: false,
    });
    const listed = (await bao.list?.("dst")) ?? [];
    expect(listed.map((l) => l.key)).toEqual(source.map((s) => s.key));
    const got = await readVault(
      "dst",
      source.map((s) => s.key),
    );
    source.forEach((s, i) => {
      const v = got[i];
      if (!v || v instanceof Error) throw new Error(`${s.key}: ${String(v)}`);
      expect(v.isBinary, s.key).toBe(typeof s.value !== "string");
      expect(Buffer.from(v.revealBytes()).equals(bytesOf(s.value)), s.key).toBe(true);
    });
  });

  it("carries description and tags where the source has them, and invents none", async () => {
    const listed = new Map(((await bao.list?.("dst")) ?? []).map((l) => [l.key, l.metadata]));
    for (const s of source) {
      const m = listed.get(s.key) as SecretMetadata;
      expect(m.description, s.key).toBe(s.metadata.description);
      expect(m.tags ?? {}, s.key).toEqual(s.metadata.tags ?? {});
    }
  });

  it("prints no value, in any encoding", () => {
    expect(findLeak(copy.stdout + copy.stderr, values)).toBeUndefined();
  });

  it("audits each source read once, with its outcome, and never a value", async () => {
    // The command closed its router before returning, and close() waits for the audit writes:
    // the file is complete now (no polling, no "nothing more is on its way" pause; trust issue
    // #20 point 9).
    const events = { text: await readFile(auditFile, "utf8") };
    const parsed = events.text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(parsed).toHaveLength(source.length);
    expect(parsed.map((e) => e.key).sort()).toEqual(source.map((s) => s.key));
    for (const e of parsed) {
      expect(e).toMatchObject({ namespace: "src", backend: "aws", foundIn: "src", outcome: "ok" });
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
    }
    expect(findLeak(events.text, values)).toBeUndefined();
  });

  it("the diagnostics channels see every read and write-plan lookup, and no value", () => {
    const seen = JSON.stringify(channels);
    expect(findLeak(seen, values)).toBeUndefined();
    const resolves = channels.resolve as Array<{ namespace: string; key: string; outcome: string }>;
    expect(
      resolves
        .filter((e) => e.namespace === "src")
        .map((e) => e.key)
        .sort(),
    ).toEqual(source.map((s) => s.key));
    const backendCalls = channels.backend as Array<{ backend: string; outcome: string }>;
    // The write plan asks only the destination's own level (inherit: false): never the root's env.
    expect(new Set(backendCalls.map((e) => e.backend))).toEqual(new Set(["aws", "bao"]));
    expect(channels.cache.length).toBeGreaterThan(0);
    // Nothing went down, so the breaker said nothing (the subscription was there all along).
    expect(channels.breaker).toEqual([]);
  });

  it("a dry run plans create / skip / overwrite and leaves the destination exactly as it was", async () => {
    const kept = `kept-${randomBytes(8).toString("hex")}`;
    const first = source[1] as Seed;
    await bao.put?.({ namespace: "dry", key: first.key }, kept);
    const dryDir = await configDir({
      rules: [
        { match: "src", backend: "aws" },
        { match: "dry", backend: "bao" },
      ],
    });
    const before = await keyway(dryDir, ["list", "-n", "dry"]);
    expect(before.stdout).toBe(`${first.key}\n`);

    for (const overwrite of [false, true]) {
      const args = ["copy", "--from-namespace", "src", "--to-namespace", "dry", "--dry-run"];
      const r = await keyway(dryDir, overwrite ? [...args, "--overwrite"] : args);
      expect(r.code, r.stderr).toBe(0);
      const expected = source.map((s) =>
        s.key === first.key ? `${overwrite ? "overwrite" : "skip"}\t${s.key}` : `create\t${s.key}`,
      );
      expect(r.stdout).toBe(`${expected.join("\n")}\n`);
      expect(summary(r.stderr)).toEqual({
        dryRun: true,
        created: source.length - 1,
        overwritten: overwrite ? 1 : 0,
        skipped: overwrite ? 0 : 1,
        failed: 0,
      });
      expect(findLeak(r.stdout + r.stderr, [...values, kept])).toBeUndefined();
    }

    const after = await keyway(dryDir, ["list", "-n", "dry"]);
    expect(after.stdout).toBe(before.stdout);
    const [v] = await readVault("dry", [first.key]);
    expect(v && !(v instanceof Error) && v.reveal()).toBe(kept);
  });
});
