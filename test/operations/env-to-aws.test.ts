// `keyway copy` from Kestra-style SECRET_ variables (env backend) into AWS Secrets Manager (moto),
// checked through the AWS backend directly, and `keyway import` of a .env file into moto.
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { AuditEvent } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { awsBackend, configDir, findLeak, keyway, serversMissing, summary } from "./helpers.js";

const aws = awsBackend();

/** What the AWS backend holds in `namespace`: key → plaintext. */
async function stored(namespace: string): Promise<Map<string, string>> {
  const listed = await aws.list?.(namespace);
  const refs = (listed ?? []).map((l) => ({ namespace, key: l.key }));
  const values = (await aws.getMany?.(refs)) ?? new Map();
  return new Map(
    refs.map((ref) => {
      const v = values.get(ref);
      if (!v || v instanceof Error) throw new Error(`cannot read back ${ref.key}: ${String(v)}`);
      return [ref.key, v.reveal()];
    }),
  );
}

describe.skipIf(serversMissing)("env → moto", () => {
  it("copies 250 SECRET_ variables; every value lands byte for byte, and no value is printed", async () => {
    const N = 250;
    const source = new Map<string, string>();
    for (let i = 0; i < N; i++) {
      const key = `OPS_${String(i).padStart(3, "0")}`;
      // Varied shapes: plain, JSON with quotes, multi-line, non-ASCII; each unique per run.
      const noise = randomBytes(12).toString("hex");
      const value = [
        `plain-${noise}`,
        JSON.stringify({ user: `user-${i}`, password: noise }),
        `-----BEGIN KEY-----\n${noise}\n-----END KEY-----\n`,
        `mot de passe ✓ ${noise}`,
      ][i % 4] as string;
      source.set(key, value);
    }
    const env = Object.fromEntries(
      [...source].map(([k, v]) => [`SECRET_${k}`, Buffer.from(v).toString("base64")]),
    );
    const dir = await configDir({ rules: [{ match: "bulk", backend: "aws" }] });

    const started = performance.now();
    const r = await keyway(dir, ["copy", "--from-namespace", "", "--to-namespace", "bulk"], env);
    const ms = performance.now() - started;
    console.log(`[keyway] env → moto copy of ${N} secrets: ${Math.round(ms)} ms`);

    expect(r.code, r.stderr).toBe(0);
    expect(summary(r.stderr)).toEqual({ created: N, overwritten: 0, skipped: 0, failed: 0, dryRun: false });
    expect(findLeak(r.stdout + r.stderr, source.values())).toBeUndefined();

    const landed = await stored("bulk");
    expect(landed.size).toBe(N);
    for (const [key, value] of source) expect(landed.get(key), key).toBe(value);
    // The env source has no description or tags: none are invented on the way.
    const listed = (await aws.list?.("bulk")) ?? [];
    expect(listed.every((l) => l.metadata.description === undefined)).toBe(true);
    expect(listed.every((l) => Object.keys(l.metadata.tags ?? {}).length === 0)).toBe(true);
  });
});

describe.skipIf(serversMissing)("the audit trail of a copy (keyway.yaml audit: { file })", () => {
  it("one event per source read, with its outcome (a failed read too), and never a value", async () => {
    const good = ["audit-one", "audit-two", "audit-three"].map(
      (v) => `${v}-${randomBytes(8).toString("hex")}`,
    );
    const broken = `not base64 ${randomBytes(8).toString("hex")}!`; // a SECRET_ var that cannot decode
    const env = {
      ...Object.fromEntries(good.map((v, i) => [`SECRET_AUD_${i}`, Buffer.from(v).toString("base64")])),
      SECRET_AUD_BROKEN: broken,
    };
    const scratch = await configDir();
    const auditFile = path.join(scratch, "audit.jsonl");
    const dir = await configDir({ rules: [{ match: "audited", backend: "aws" }], auditFile });
    const r = await keyway(dir, ["copy", "--from-namespace", "", "--to-namespace", "audited"], env);
    expect(r.code).toBe(3); // the broken variable is an invalid value
    expect(summary(r.stderr)).toMatchObject({ created: 3, failed: 1 });
    // The command closed its router before returning, and close() waits for the audit writes:
    // the file is complete now (no polling, no "nothing more is on its way" pause; trust issue
    // #20 point 9).
    const text = await readFile(auditFile, "utf8");
    const events = text
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(events.map((e) => [e.key, e.namespace, e.backend, e.outcome])).toEqual([
      ["AUD_0", "", "env", "ok"],
      ["AUD_1", "", "env", "ok"],
      ["AUD_2", "", "env", "ok"],
      ["AUD_BROKEN", "", "env", "INVALID_VALUE"],
    ]);
    expect(findLeak(text + r.stdout + r.stderr, [...good, broken])).toBeUndefined();
  });
});

describe.skipIf(serversMissing)("keyway import FILE --namespace NS into moto", () => {
  it("dry run writes nothing; a re-import skips existing keys; --overwrite replaces them", async () => {
    const a = `import-a-${randomBytes(8).toString("hex")}`;
    const b = `import-b "quoted" ${randomBytes(8).toString("hex")}`;
    const a2 = `import-a-rotated-${randomBytes(8).toString("hex")}`;
    const c = `import-c-${randomBytes(8).toString("hex")}`;
    const dir = await configDir({ rules: [{ match: "imported", backend: "aws" }] });
    // The .env input is the only file that holds values (it is what the command reads).
    await writeFile(path.join(dir, "first.env"), `A=${a}\nB='${b}'\n`);
    await writeFile(path.join(dir, "second.env"), `A=${a2}\nB='${b}'\nC=${c}\n`);

    const dry = await keyway(dir, ["import", "first.env", "--namespace", "imported", "--dry-run"]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe("create\tA\ncreate\tB\n");
    expect(summary(dry.stderr)).toMatchObject({ dryRun: true, created: 2 });
    expect((await stored("imported")).size).toBe(0);

    const first = await keyway(dir, ["import", "first.env", "--namespace", "imported"]);
    expect(first.code, first.stderr).toBe(0);
    expect(summary(first.stderr)).toMatchObject({ created: 2, skipped: 0, overwritten: 0 });
    expect(Object.fromEntries(await stored("imported"))).toEqual({ A: a, B: b });

    // Without --overwrite, an existing key keeps its value even when the file changed it.
    const plan = await keyway(dir, ["import", "second.env", "-n", "imported", "--dry-run"]);
    expect(plan.stdout).toBe("skip\tA\nskip\tB\ncreate\tC\n");
    const second = await keyway(dir, ["import", "second.env", "-n", "imported"]);
    expect(summary(second.stderr)).toMatchObject({ created: 1, skipped: 2, overwritten: 0 });
    expect(Object.fromEntries(await stored("imported"))).toEqual({ A: a, B: b, C: c });

    const overPlan = await keyway(dir, [
      "import",
      "second.env",
      "-n",
      "imported",
      "--dry-run",
      "--overwrite",
    ]);
    expect(overPlan.stdout).toBe("overwrite\tA\noverwrite\tB\noverwrite\tC\n");
    expect((await stored("imported")).get("A")).toBe(a); // still a dry run
    const over = await keyway(dir, ["import", "second.env", "-n", "imported", "--overwrite"]);
    expect(summary(over.stderr)).toMatchObject({ created: 0, skipped: 0, overwritten: 3 });
    expect(Object.fromEntries(await stored("imported"))).toEqual({ A: a2, B: b, C: c });

    const output = [dry, first, plan, second, overPlan, over].map((x) => x.stdout + x.stderr).join("");
    expect(findLeak(output, [a, b, a2, c])).toBeUndefined();
  });
});
