// `keyway check` and `keyway render` of a real flow against moto (issue #13): check prefetches as
// render does, so 40 references cost two BatchGetSecretValue calls, not 40 reads; the rendered
// YAML holds every value exactly, whatever it contains.
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { BackendCallEvent } from "@keyway/core/otel";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { awsBackend, configDir, findLeak, keyway, recordChannels, serversMissing } from "./helpers.js";

const aws = awsBackend();
const N = 40;

/** Realistic values: quotes, PEM keys, JSON credentials, backslashes; unique per run. */
function valueFor(i: number): string {
  const noise = randomBytes(9).toString("base64");
  return [
    `pa"ss'${noise}`,
    `-----BEGIN PRIVATE KEY-----\n${noise}\n${noise}\n-----END PRIVATE KEY-----\n`,
    JSON.stringify(
      { type: "service_account", private_key: `-----BEGIN KEY-----\n${noise}\n`, id: i },
      null,
      2,
    ),
    `C:\\svc\\${noise}\\`,
  ][i % 4] as string;
}

describe.skipIf(serversMissing)("render and check of a flow on moto", () => {
  it("check resolves all references at once (batched); render keeps each value exact; nothing leaks", async () => {
    const namespace = `company.flows${randomBytes(3).toString("hex")}`;
    const values = new Map<string, string>();
    for (let i = 0; i < N; i++) values.set(`FLOW_${i}`, valueFor(i));
    // One write at a time: 40 concurrent CreateSecret calls made moto answer 500 (an HTML page)
    // on a busy machine (trust issue #20 point 9). The reads under test still go out batched.
    for (const [key, value] of values) await aws.put?.({ namespace, key }, value);

    const dir = await configDir({ rules: [{ match: namespace, backend: "aws" }] });
    const flow = `id: flow\nnamespace: ${namespace}\ntasks:\n${[...values.keys()]
      .map((key) => `  - id: t_${key}\n    value: "{{ secret('${key}') }}"`)
      .join("\n")}\n`;
    await writeFile(path.join(dir, "flow.yaml"), flow);

    const recording = recordChannels();
    const check = await keyway(dir, ["check", "flow.yaml", "-n", namespace]);
    recording.stop();
    expect(check.code).toBe(0);
    expect(check.stdout.trim().split("\n")).toHaveLength(N);
    const calls = (recording.events.backend as BackendCallEvent[]).filter((e) => e.backend === "aws");
    expect(calls.filter((c) => c.operation === "get")).toEqual([]);
    expect(calls.flatMap((c) => c.refs).length).toBe(N);
    expect(calls.length).toBeLessThanOrEqual(2);

    const render = await keyway(dir, ["render", "flow.yaml", "-n", namespace]);
    expect(render.code).toBe(0);
    const rendered = parse(render.stdout) as { tasks: Array<{ id: string; value: string }> };
    for (const task of rendered.tasks) expect(task.value).toBe(values.get(task.id.slice(2)));
    expect(findLeak(check.stdout + check.stderr + render.stderr, values.values())).toBeUndefined();
  });
});
