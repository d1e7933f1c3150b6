// Shared by the operations suites: the moto and OpenBao servers the project's globalSetup started
// (or external ones from KEYWAY_TEST_*), a keyway.yaml in a temp dir routing namespaces to env,
// aws (moto) and vault (OpenBao) under a random per-run prefix, backends for checking the servers
// directly (not through the CLI under test), and the CLI run in-process.
import { randomBytes } from "node:crypto";
import diagnostics from "node:diagnostics_channel";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { createAwsBackend } from "@keyway/backend-aws";
import { createVaultBackend } from "@keyway/backend-vault";
import type { SecretBackend } from "@keyway/core";
import { CHANNELS } from "@keyway/core/otel";
import { serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import { afterAll, inject } from "vitest";
import { type CliResult, cli } from "../../packages/cli/test/harness.js";
import { tempDir } from "../setup/temp-dirs.js";

export const moto = inject("keywayServers")?.moto ?? serverFromEnv("moto");
export const openbao = inject("keywayServers")?.openbao ?? serverFromEnv("openbao");
export const serversMissing = !moto || !openbao;
if (serversMissing)
  console.warn("[keyway] SKIPPING operations suite: needs moto and openbao (scripts/emulators/install.sh)");

/** One prefix per run in both servers, so reruns and other suites never meet. */
export const run = randomBytes(4).toString("hex");
export const prefix = `kw-ops-${run}`;

/** Credentials reach keyway.yaml as ${VAR}, from the CLI's env: the file holds none. */
export function credentialsEnv(vaultToken = openbao?.extra.rootToken ?? "root"): Record<string, string> {
  return {
    KW_AWS_KEY_ID: moto?.extra.accessKeyId ?? "test",
    KW_AWS_SECRET: moto?.extra.secretAccessKey ?? "test",
    KW_BAO_TOKEN: vaultToken,
  };
}

export interface ConfigOptions {
  /** Namespace rules below the root, `- { match: …, backend: … }`. */
  rules?: ReadonlyArray<{ match: string; backend: string }>;
  /** The backend of the root rule. @default "env" */
  root?: string;
  /** More backends, as YAML lines indented under `backends:`. */
  extraBackends?: string;
  /** Appends `audit: { file }`. */
  auditFile?: string;
}

/** A temp dir holding a keyway.yaml: the root on env, the given namespaces on aws / bao. */
export async function configDir(options: ConfigOptions = {}): Promise<string> {
  const dir = await tempDir("keyway-ops-");
  const rules = [{ match: "", backend: options.root ?? "env" }, ...(options.rules ?? [])]
    .map((r) => `  - { match: "${r.match}", backend: ${r.backend} }`)
    .join("\n");
  const yaml = `
backends:
  env: { type: env }
  aws:
    type: aws
    region: ${moto?.extra.region ?? "us-east-1"}
    endpoint: ${moto?.endpoint ?? "http://127.0.0.1:1"}
    credentials: { type: static, accessKeyId: "\${KW_AWS_KEY_ID}", secretAccessKey: "\${KW_AWS_SECRET}" }
    prefix: ${prefix}
    forceDelete: true
  bao:
    type: vault
    endpoint: ${openbao?.endpoint ?? "http://127.0.0.1:1"}
    auth: { method: token, token: "\${KW_BAO_TOKEN}" }
    prefix: ${prefix}
${options.extraBackends ?? ""}
namespaces:
${rules}
${options.auditFile ? `audit: { file: "${options.auditFile}" }\n` : ""}`;
  await writeFile(path.join(dir, "keyway.yaml"), yaml);
  return dir;
}

/** Runs `keyway ARGS` in-process in `dir` with the credentials (and any SECRET_ vars) in its env. */
export function keyway(
  dir: string,
  args: string[],
  env: Record<string, string> = {},
  vaultToken?: string,
): Promise<CliResult> {
  return cli(args, { cwd: dir, env: { ...credentialsEnv(vaultToken), ...env } });
}

/** The AWS backend on moto, for checking what landed there without going through the CLI; closed after the file. */
export function awsBackend(): SecretBackend {
  return closedAfterAll(
    createAwsBackend({
      name: "aws-check",
      region: moto?.extra.region ?? "us-east-1",
      endpoint: moto?.endpoint ?? "http://127.0.0.1:1",
      credentials: {
        type: "static",
        accessKeyId: moto?.extra.accessKeyId ?? "test",
        secretAccessKey: moto?.extra.secretAccessKey ?? "test",
      },
      prefix,
    }),
  );
}

/** The Vault backend on OpenBao (root token), for the same purpose. */
export function vaultBackend(): SecretBackend {
  return closedAfterAll(
    createVaultBackend({
      name: "bao-check",
      endpoint: openbao?.endpoint ?? "http://127.0.0.1:1",
      auth: { method: "token", token: openbao?.extra.rootToken ?? "root" },
      prefix,
    }),
  );
}

/** Closes `backend` after the calling test file's tests. */
function closedAfterAll(backend: SecretBackend): SecretBackend {
  afterAll(() => backend.close?.());
  return backend;
}

/** Calls OpenBao's HTTP API as root (for setting up tokens). */
export async function baoApi<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${openbao?.endpoint}/v1/${apiPath}`, {
    method,
    headers: { "x-vault-token": openbao?.extra.rootToken ?? "root", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${apiPath} -> ${res.status}`);
  return JSON.parse(text) as T;
}

/** The counts of the copy / import summary line on stderr. */
export function summary(stderr: string): {
  created: number;
  overwritten: number;
  skipped: number;
  failed: number;
  dryRun: boolean;
} {
  const m =
    /(would be )?created (\d+), (?:would be )?overwritten (\d+), skipped (\d+) existing(?:, failed (\d+))?\./.exec(
      stderr,
    );
  if (!m) throw new Error(`no summary line in stderr:\n${stderr.slice(-2000)}`);
  return {
    dryRun: m[1] !== undefined,
    created: Number(m[2]),
    overwritten: Number(m[3]),
    skipped: Number(m[4]),
    failed: Number(m[5] ?? 0),
  };
}

/** Everything published on Keyway's diagnostics channels until `stop()`. */
export function recordChannels(): { events: Record<keyof typeof CHANNELS, unknown[]>; stop(): void } {
  const events = { resolve: [], backend: [], cache: [], breaker: [], change: [] } as Record<
    keyof typeof CHANNELS,
    unknown[]
  >;
  const listeners = (Object.keys(CHANNELS) as Array<keyof typeof CHANNELS>).map((name) => {
    // A copy now: an event object published later must not be able to change what was seen.
    const listener = (message: unknown) => events[name].push(structuredClone(message));
    diagnostics.subscribe(CHANNELS[name], listener);
    return [CHANNELS[name], listener] as const;
  });
  return {
    events,
    stop: () => {
      for (const [name, listener] of listeners) diagnostics.unsubscribe(name, listener);
    },
  };
}

/** The forms of a value that must never show up in output, events or audit lines. */
export function forms(value: string | Uint8Array): string[] {
  const bytes = typeof value === "string" ? Buffer.from(value) : Buffer.from(value);
  const out = [bytes.toString("base64"), bytes.toString("hex")];
  if (typeof value === "string") out.push(value, JSON.stringify(value).slice(1, -1));
  return out.filter((f) => f.length >= 8);
}

/** The first form of any of `values` (see {@link forms}) that occurs in `text`, if one does. */
export function findLeak(text: string, values: Iterable<string | Uint8Array>): string | undefined {
  for (const value of values) {
    for (const form of forms(value)) if (text.includes(form)) return form;
  }
  return undefined;
}
