// No secret value and no credential in any error or log, on every error path of every backend
// and of the CLI: bad credentials, denied, not found, invalid JSON for a sub-key, timeouts and TLS
// failures, with the values and credentials fuzzed by fast-check. Searched: message, stack, cause
// chain, String(), util.inspect (showHidden, depth 10), JSON.stringify, the console, stdout,
// stderr, process warnings, the telemetry channels and the audit trail, and the CLI's stderr (also
// with KEYWAY_DEBUG=1). Also with the SDKs' own debug logging switched on (DEBUG=node-vault,
// GOOGLE_SDK_NODE_LOGGING), since operators do that when something breaks.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { RestError } from "@azure/core-rest-pipeline";
import { createAwsBackend } from "@keyway/backend-aws";
import { type AzureSecretClient, createAzureBackend } from "@keyway/backend-azure";
import { createGcpBackend } from "@keyway/backend-gcp";
import { createVaultBackend, type VaultBackendOptions } from "@keyway/backend-vault";
import {
  AccessDeniedError,
  BackendUnavailableError,
  ConfigurationError,
  createRouter,
  InvalidSecretValueError,
  isSecretsError,
  type SecretBackend,
  SecretNotFoundError,
} from "@keyway/core";
import { type RunningServer, startServer } from "@keyway/test-servers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, tempFiles } from "../../packages/cli/test/harness.js";
import { directBackend, makeBackend, runId, serverInfo } from "./support/backends.js";
import { watchUnhandledRejections } from "./support/checks.js";
import { type FaultyLink, faultyLink } from "./support/faults.js";
import { capturing, expectNoLeak } from "./support/leaks.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
watchUnhandledRejections();

/** Credentials and values: long enough to search for, with the characters tokens use. */
const credential = fc.stringMatching(/^[A-Za-z0-9._~+/-]{20,40}$/);
/** Values: a distinctive core (so a match is a real leak, not a run of spaces) in any text. */
const textValue = fc
  .tuple(
    fc.stringMatching(/^[A-Za-z0-9]{10}$/),
    fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9 !#%&()*+,./:;<=>?@^_`|~-]{0,30}$/),
      fc.string({ unit: "grapheme", maxLength: 12 }),
    ),
  )
  .map(([core, rest]) => `${core}${rest}`);
/** Never a JSON object, so reading a sub-key of it must fail. */
const notJson = textValue.map((v) => `not-json: ${v}`);

const bao = () => serverInfo("openbao");
async function sys<T = unknown>(method: string, apiPath: string, body?: unknown): Promise<T> {
  const res = await fetch(`${bao().endpoint}/v1/${apiPath}`, {
    method,
    headers: { "x-vault-token": bao().extra.rootToken ?? "root" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok && !/already in use|path is already/.test(text))
    throw new Error(`${method} ${apiPath}: ${res.status}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/** An HTTPS server with a self-signed certificate nobody trusts: every client must fail TLS. */
async function untrustedTls(): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const dir = mkdtempSync(path.join(tmpdir(), "keyway-tls-"));
  try {
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat(
        ["-subj", "/CN=127.0.0.1", "-keyout", path.join(dir, "k.pem"), "-out", path.join(dir, "c.pem")],
      ),
      { stdio: "ignore" },
    );
    const server = createServer(
      { key: readFileSync(path.join(dir, "k.pem")), cert: readFileSync(path.join(dir, "c.pem")) },
      (_req, res) => res.end("{}"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    return {
      server,
      url: `https://127.0.0.1:${port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `call` with everything captured and checks the outcome and the logs for `secrets`. */
async function noLeakFrom(
  where: string,
  secrets: readonly string[],
  call: () => Promise<unknown>,
): Promise<unknown> {
  const { outcome, logs } = await capturing(call);
  expectNoLeak(outcome, secrets, `${where} (outcome)`);
  expectNoLeak(logs, secrets, `${where} (logs)`);
  return outcome;
}

describe("Vault (OpenBao): every error path", () => {
  const scope = runId();
  let link: FaultyLink;
  let tls: Awaited<ReturnType<typeof untrustedTls>>;
  const approle = `approle-rel-${scope}`;
  const userpass = `userpass-rel-${scope}`;
  let roleId = "";
  beforeAll(async () => {
    link = await faultyLink("openbao");
    await link.fault({ type: "timeout", attributes: { timeout: 0 } });
    tls = await untrustedTls();
    await sys("POST", `sys/auth/${approle}`, { type: "approle" });
    await sys("POST", `sys/auth/${userpass}`, { type: "userpass" });
    await sys("POST", `auth/${approle}/role/rel`, { token_policies: ["default"] });
    roleId = (await sys<{ data: { role_id: string } }>("GET", `auth/${approle}/role/rel/role-id`)).data
      .role_id;
    await sys("POST", `auth/${userpass}/users/rel`, {
      password: "the-right-password",
      token_policies: ["default"],
    });
  });
  afterAll(async () => {
    await link?.close();
    await tls?.close();
  });

  it("bad token, wrong AppRole secret, wrong password, denied write, not found, bad sub-key JSON, timeout, TLS", async () => {
    // node-vault prints request bodies (values, secret ids, passwords) when DEBUG=node-vault.
    const debug = createRequire(import.meta.url)("debug") as { enable(ns: string): void; disable(): string };
    debug.enable("node-vault");
    try {
      await fc.assert(
        fc.asyncProperty(
          credential,
          credential,
          textValue,
          notJson,
          async (token, password, value, badJson) => {
            const secrets = [token, password, value, badJson];
            const vault = (auth: VaultBackendOptions["auth"], endpoint = bao().endpoint) =>
              createVaultBackend({
                endpoint,
                auth,
                prefix: `rel-${scope}`,
                requestTimeoutMs: 2_000,
                env: {},
              });
            const ref = { namespace: "leak", key: `K${runId()}` };

            const badToken = await noLeakFrom("vault: bad token", secrets, () =>
              vault({ method: "token", token }).get(ref),
            );
            expect(badToken).toBeInstanceOf(AccessDeniedError);
            const badSecretId = await noLeakFrom("vault: wrong AppRole secret", secrets, () =>
              vault({ method: "approle", roleId, secretId: token, mount: approle }).get(ref),
            );
            expect(badSecretId).toBeInstanceOf(AccessDeniedError);
            const badPassword = await noLeakFrom("vault: wrong password", secrets, () =>
              vault({ method: "userpass", username: "rel", password, mount: userpass }).get(ref),
            );
            expect(badPassword).toBeInstanceOf(AccessDeniedError);
            const denied = await noLeakFrom(
              "vault: denied write",
              secrets,
              () =>
                vault({
                  method: "userpass",
                  username: "rel",
                  password: "the-right-password",
                  mount: userpass,
                }).put?.(ref, value) ?? Promise.reject(new Error("the Vault backend cannot write")),
            );
            expect(denied).toBeInstanceOf(AccessDeniedError);

            const root = vault({ method: "token", token: "root" });
            expect(await noLeakFrom("vault: not found", secrets, () => root.get(ref))).toBeInstanceOf(
              SecretNotFoundError,
            );
            await root.put?.(ref, badJson);
            const router = createRouter({
              backends: { v: root },
              rules: [{ match: "", backend: "v" }],
              audit: (event) => {
                count("leakChecks");
                expectNoLeak(event, secrets, "an audit event");
              },
            });
            expect(
              await noLeakFrom("vault: sub-key of a non-JSON value", secrets, () =>
                router.resolve(ref, { subkey: "user" }),
              ),
            ).toBeInstanceOf(InvalidSecretValueError);
            await router.close();

            const slow = createRouter({
              backends: { v: vault({ method: "token", token }, link.url) },
              rules: [{ match: "", backend: "v" }],
              timeoutMs: 300,
            });
            expect(await noLeakFrom("vault: timeout", secrets, () => slow.resolve(ref))).toBeInstanceOf(
              BackendUnavailableError,
            );
            await slow.close();
            expect(
              await noLeakFrom("vault: untrusted TLS", secrets, () =>
                vault({ method: "token", token }, tls.url).get(ref),
              ),
            ).toBeInstanceOf(ConfigurationError);
          },
        ),
        { numRuns: 6 },
      );
    } finally {
      debug.disable();
    }
  });
});

describe("AWS (moto with IAM checks on): every error path", () => {
  const scope = runId();
  let strict: RunningServer;
  let link: FaultyLink;
  let tls: Awaited<ReturnType<typeof untrustedTls>>;
  beforeAll(async () => {
    // A moto of its own that checks credentials, so the shared one stays open for the others.
    strict = await startServer("moto", { env: { INITIAL_NO_AUTH_ACTION_COUNT: "0" } });
    link = await faultyLink("moto");
    await link.fault({ type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
    tls = await untrustedTls();
  });
  afterAll(async () => {
    await strict?.stop();
    await link?.close();
    await tls?.close();
  });

  it("bad keys, session token, not found, bad sub-key JSON, timeout, TLS", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential,
        credential,
        credential,
        notJson,
        async (keyId, secretKey, session, badJson) => {
          const secrets = [keyId, secretKey, session, badJson];
          const aws = (
            endpoint: string,
            creds = { accessKeyId: keyId, secretAccessKey: secretKey, sessionToken: session },
          ) =>
            createAwsBackend({
              region: "us-east-1",
              endpoint,
              credentials: { type: "static", ...creds },
              prefix: `rel-${scope}`,
              requestTimeoutMs: 2_000,
            });
          const ref = { namespace: "leak", key: `K${runId()}` };
          expect(
            await noLeakFrom("aws: bad credentials", secrets, () => aws(strict.endpoint).get(ref)),
          ).toBeInstanceOf(AccessDeniedError);
          expect(
            await noLeakFrom("aws: bad credentials, writing", secrets, async () =>
              aws(strict.endpoint).put?.(ref, badJson),
            ),
          ).toBeInstanceOf(AccessDeniedError);
          const open = directBackend("moto", scope);
          expect(await noLeakFrom("aws: not found", secrets, () => open.get(ref))).toBeInstanceOf(
            SecretNotFoundError,
          );
          await open.put?.(ref, badJson);
          const router = createRouter({ backends: { a: open }, rules: [{ match: "", backend: "a" }] });
          expect(
            await noLeakFrom("aws: sub-key of a non-JSON value", secrets, () =>
              router.resolve(ref, { subkey: "user" }),
            ),
          ).toBeInstanceOf(InvalidSecretValueError);
          await router.close();
          const slow = createRouter({
            backends: { a: aws(link.url) },
            rules: [{ match: "", backend: "a" }],
            timeoutMs: 300,
          });
          expect(await noLeakFrom("aws: timeout", secrets, () => slow.resolve(ref))).toBeInstanceOf(
            BackendUnavailableError,
          );
          await slow.close();
          const tlsError = await noLeakFrom("aws: untrusted TLS", secrets, () => aws(tls.url).get(ref));
          expect(isSecretsError(tlsError)).toBe(true);
        },
      ),
      { numRuns: 6 },
    );
  });
});

describe("GCP (emulator): every error path", () => {
  const scope = runId();
  let link: FaultyLink;
  beforeAll(async () => {
    link = await faultyLink("gcp");
    await link.fault({ type: "timeout", attributes: { timeout: 0 } });
  });
  afterAll(async () => link?.close());

  it("bad service-account key, not found, disabled version, bad sub-key JSON, timeout; SDK logging on", async () => {
    // The generated client logs each request and response (payloads included) when this names it.
    const LOGGING = "GOOGLE_SDK_NODE_LOGGING";
    const saved = process.env[LOGGING];
    process.env[LOGGING] = "*";
    try {
      await fc.assert(
        fc.asyncProperty(credential, textValue, notJson, async (keyMaterial, value, badJson) => {
          const secrets = [keyMaterial, value, badJson];
          const ref = { namespace: "leak", key: `K${runId()}` };
          const keyed = createGcpBackend({
            project: `rel-${scope}`,
            timeoutMs: 2_000,
            credentials: {
              type: "service_account",
              client_email: "rel@rel.iam.gserviceaccount.com",
              private_key: `-----BEGIN PRIVATE KEY-----\n${keyMaterial}\n-----END PRIVATE KEY-----\n`,
            },
          });
          const keyError = await noLeakFrom("gcp: bad service-account key", secrets, () => keyed.get(ref));
          expect(isSecretsError(keyError)).toBe(true);
          await keyed.close?.();

          // A backend created while logging is on: its client logs every request and response.
          const open = makeBackend("gcp", { address: `127.0.0.1:${serverInfo("gcp").port}`, scope });
          expect(await noLeakFrom("gcp: not found", secrets, () => open.get(ref))).toBeInstanceOf(
            SecretNotFoundError,
          );
          await noLeakFrom("gcp: writing a value", secrets, async () => open.put?.(ref, value));
          await noLeakFrom("gcp: reading it back", secrets, async () => {
            expect((await open.get(ref)).reveal()).toBe(value);
          });
          await noLeakFrom("gcp: a version that does not exist", secrets, () =>
            open.get(ref, { version: "99" }),
          );
          await open.put?.(ref, badJson);
          const router = createRouter({ backends: { g: open }, rules: [{ match: "", backend: "g" }] });
          expect(
            await noLeakFrom("gcp: sub-key of a non-JSON value", secrets, () =>
              router.resolve(ref, { subkey: "user" }),
            ),
          ).toBeInstanceOf(InvalidSecretValueError);
          await router.close();
          const slow = createRouter({
            backends: { g: makeBackend("gcp", { address: link.address, scope }) },
            rules: [{ match: "", backend: "g" }],
            timeoutMs: 300,
          });
          expect(await noLeakFrom("gcp: timeout", secrets, () => slow.resolve(ref))).toBeInstanceOf(
            BackendUnavailableError,
          );
          await slow.close();
        }),
        { numRuns: 5 },
      );
    } finally {
      if (saved === undefined) delete process.env[LOGGING];
      else process.env[LOGGING] = saved;
    }
  });
});

describe("Azure (scripted client: Lowkey Vault cannot be installed here)", () => {
  it("bad client secret, denied, not found, throttled, TLS and aborts: SDK errors carrying the credentials never get through", async () => {
    await fc.assert(
      fc.asyncProperty(credential, credential, textValue, async (clientSecret, bearer, value) => {
        const secrets = [clientSecret, bearer, value];
        const failing = (error: unknown) => async () => {
          throw error;
        };
        const restError = (statusCode: number, code: string) =>
          new RestError(`${code}: the request with client secret ${clientSecret} and value ${value} failed`, {
            statusCode,
            code,
            request: {
              url: "https://vault.example/secrets/x",
              headers: {
                get: () => `Bearer ${bearer}`,
                toJSON: () => ({ authorization: `Bearer ${bearer}` }),
              },
            } as never,
            response: { status: statusCode, bodyAsText: JSON.stringify({ value, token: bearer }) } as never,
          });
        // As the SDK throws them: the message is the platform's, the request (token included) rides along.
        const request = { headers: { authorization: `Bearer ${bearer}` }, body: value };
        const tls = Object.assign(new Error("self-signed certificate"), {
          code: "DEPTH_ZERO_SELF_SIGNED_CERT",
          request,
        });
        const auth = Object.assign(
          new Error(`AADSTS7000215: Invalid client secret provided: ${clientSecret}`),
          {
            name: "AuthenticationError",
            statusCode: 401,
          },
        );
        const aborted = Object.assign(new Error("The operation was aborted."), {
          name: "AbortError",
          request,
        });
        for (const [label, error, type] of [
          ["401", restError(401, "Unauthorized"), AccessDeniedError],
          ["403", restError(403, "Forbidden"), AccessDeniedError],
          ["404", restError(404, "SecretNotFound"), SecretNotFoundError],
          ["429", restError(429, "Throttled"), BackendUnavailableError],
          ["500", restError(500, "InternalServerError"), BackendUnavailableError],
          ["TLS", tls, ConfigurationError],
          ["bad client secret", auth, AccessDeniedError],
          ["abort", aborted, BackendUnavailableError],
        ] as const) {
          const client = {
            getSecret: failing(error),
            setSecret: failing(error),
            beginDeleteSecret: failing(error),
            beginRecoverDeletedSecret: failing(error),
            purgeDeletedSecret: failing(error),
            getDeletedSecret: failing(error),
            listPropertiesOfSecrets: () => ({ [Symbol.asyncIterator]: () => ({ next: failing(error) }) }),
          } as unknown as AzureSecretClient;
          const backend: SecretBackend = createAzureBackend({
            client,
            credential: { type: "clientSecret", tenantId: "t", clientId: "c", clientSecret },
            pollIntervalMs: 1,
          });
          const ref = { namespace: "leak", key: "K" };
          // Reading, the backend holds only the credentials; writing, it holds the value too.
          const credentials = [clientSecret, bearer];
          expect(
            await noLeakFrom(`azure: get, ${label}`, credentials, () => backend.get(ref)),
          ).toBeInstanceOf(type);
          await noLeakFrom(`azure: put, ${label}`, secrets, async () => backend.put?.(ref, value));
          await noLeakFrom(`azure: list, ${label}`, credentials, async () => backend.list?.("leak"));
        }
      }),
      { numRuns: 20 },
    );
  });
});

describe("the CLI: stderr never shows a value or a credential", () => {
  const scope = runId();
  let link: FaultyLink;
  let strict: RunningServer;
  beforeAll(async () => {
    link = await faultyLink("openbao");
    await link.fault({ type: "timeout", attributes: { timeout: 0 } });
    strict = await startServer("moto", { env: { INITIAL_NO_AUTH_ACTION_COUNT: "0" } });
  });
  afterAll(async () => {
    await link?.close();
    await strict?.stop();
  });

  it("denied, bad keys, invalid sub-key JSON, a failed render, timeouts: with and without KEYWAY_DEBUG", async () => {
    await fc.assert(
      fc.asyncProperty(
        credential,
        credential,
        notJson,
        textValue,
        async (token, awsSecret, badJson, value) => {
          const secrets = [token, awsSecret, badJson, value];
          const key = `K${randomBytes(3).toString("hex")}`;
          const vault = directBackend("openbao", scope);
          await vault.put?.({ namespace: "cli", key }, badJson);
          await vault.put?.({ namespace: "cli", key: `${key}_OK` }, value);
          await vault.close?.();
          const config = (endpoint: string, timeout = "5s") =>
            [
              `timeout: ${timeout}`,
              "backends:",
              `  v: { type: vault, endpoint: "${endpoint}", prefix: "rel-${scope}", auth: { method: token, token: "\${VAULT_TOKEN}" } }`,
              `  a: { type: aws, region: us-east-1, endpoint: "${strict.endpoint}", prefix: "rel", credentials: { type: static, accessKeyId: "\${AWS_KEY}", secretAccessKey: "\${AWS_SECRET}" } }`,
              "namespaces:",
              '  - { match: "", backend: v }',
              '  - { match: "aws", backend: a }',
              "",
            ].join("\n");
          const good = await tempFiles({
            "keyway.yaml": config(bao().endpoint),
            "flow.yaml": `a: "{{ secret('${key}_OK') }}"\nb: "{{ secret('MISSING_${key}') }}"\n`,
          });
          const blackholed = await tempFiles({ "keyway.yaml": config(link.url, "300ms") });
          for (const debug of [undefined, "1"]) {
            const env = (vaultToken: string) => ({
              VAULT_TOKEN: vaultToken,
              AWS_KEY: token,
              AWS_SECRET: awsSecret,
              KEYWAY_DEBUG: debug,
            });
            const runs: Array<[string, string[], string, string, number]> = [
              ["denied", ["get", key, "-n", "cli"], good, token, 4],
              ["aws bad keys", ["get", key, "-n", "aws"], good, "root", 4],
              ["bad sub-key JSON", ["get", key, "-n", "cli", "-s", "user"], good, "root", 3],
              ["failed render", ["render", "flow.yaml", "-n", "cli"], good, "root", 2],
              ["check", ["check", "flow.yaml", "-n", "cli", "--json"], good, token, 4],
              ["timeout", ["get", key, "-n", "cli"], blackholed, token, 5],
            ];
            for (const [label, argv, cwd, vaultToken, exit] of runs) {
              const result = await cli(argv, { cwd, env: env(vaultToken) });
              expect(result.code, `${label}: ${result.stderr}`).toBe(exit);
              expectNoLeak(result.stderr, secrets, `keyway ${label} stderr (KEYWAY_DEBUG=${debug})`);
              // A failed command writes no partial output (a render that failed prints nothing).
              if (label !== "check") expect(result.stdout, label).toBe("");
              expectNoLeak(
                result.stdout.replace(value, ""),
                [token, awsSecret, badJson],
                `keyway ${label} stdout`,
              );
            }
          }
        },
      ),
      { numRuns: 4 },
    );
  });
});
