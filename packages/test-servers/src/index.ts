// Starts the real servers that the backend contract tests run against (installed by
// scripts/emulators/install.sh into .emulators/), each on a free loopback port, and makes sure
// none outlives the test process. Node built-ins only. See README.md beside this file.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect, createServer } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { postgresBinary, prepareCluster } from "./postgres.js";

export type ServerName = "moto" | "openbao" | "lowkey" | "gcp" | "toxiproxy" | "postgres";
export const SERVER_NAMES: readonly ServerName[] = [
  "moto",
  "openbao",
  "lowkey",
  "gcp",
  "toxiproxy",
  "postgres",
];

export interface RunningServer {
  name: ServerName;
  /** http://127.0.0.1:PORT; https://127.0.0.1:PORT for lowkey; 127.0.0.1:PORT (gRPC) for gcp. */
  endpoint: string;
  port: number;
  /** 0 when the server was not started by us (KEYWAY_TEST_<NAME>_ENDPOINT). */
  pid: number;
  /**
   * openbao: rootToken; lowkey: caPem, caFile, tokenEndpoint, tokenPort, recoveryLevel, and
   * protectedEndpoint (a second vault with purge protection on); toxiproxy: apiUrl; moto: region...
   */
  extra: Record<string, string>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Port to bind; default: a free loopback port. */
  port?: number;
  /** How long to wait for readiness; defaults per server (lowkey: 90 s). */
  readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace period for stop(); default 5 s. */
  stopGraceMs?: number;
  /** Extra command-line arguments appended to the server's own. */
  args?: string[];
  /** Extra environment variables for the server process. */
  env?: Record<string, string>;
}

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const EMULATORS_DIR = process.env.KEYWAY_EMULATORS_DIR ?? path.join(ROOT, ".emulators");
export const LOGS_DIR = path.join(EMULATORS_DIR, "logs");

const dir = (name: ServerName, ...rest: string[]) => path.join(EMULATORS_DIR, name, ...rest);

/** The file that must exist (besides the install marker) for each server to be usable. */
const BINARY: Record<ServerName, string> = {
  moto: dir("moto", "venv", "bin", "moto_server"),
  openbao: dir("openbao", "bao"),
  lowkey: dir("lowkey", "lowkey-vault-app.jar"),
  gcp: dir("gcp", "server"),
  toxiproxy: dir("toxiproxy", "server"),
  postgres: postgresBinary(),
};

/** True when install.sh finished for this server (it writes the marker last). */
export function isInstalled(name: ServerName): boolean {
  // PostgreSQL comes from Debian's package (install.sh postgres), not from .emulators/.
  if (name === "postgres") return existsSync(BINARY.postgres);
  return existsSync(dir(name, ".installed")) && existsSync(BINARY[name]);
}

const envKey = (name: ServerName, key: string) =>
  `KEYWAY_TEST_${name.toUpperCase()}_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

/**
 * For a backend suite: returns the name when its server can be had (installed here, or an
 * external one given by KEYWAY_TEST_<NAME>_ENDPOINT). Otherwise it throws in CI (a skipped
 * backend suite must fail CI) and, on a laptop, prints one loud line and returns undefined:
 *   const moto = requireServer("moto");
 *   describe.skipIf(!moto)("aws backend", () => { ... });
 */
export function requireServer(name: ServerName): ServerName | undefined {
  if (process.env[envKey(name, "endpoint")] || isInstalled(name)) return name;
  const msg = `[keyway] SKIPPING ${name} suite: server not installed, run scripts/emulators/install.sh ${name}`;
  if (process.env.CI === "true") {
    throw new Error(
      `[keyway] ${name} suite cannot run in CI (CI=true): server not installed, run scripts/emulators/install.sh ${name}`,
    );
  }
  console.warn(msg);
  return undefined;
}

/** A free TCP port on 127.0.0.1: bind port 0, read what the kernel gave, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function httpOk(url: string, expect = (s: number) => s >= 200 && s < 300): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer(); // drain, so the socket is released
    return expect(res.status);
  } catch {
    return false;
  }
}

function tcpOk(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.setTimeout(1000);
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
    sock.once("timeout", () => {
      sock.destroy();
      resolve(false);
    });
  });
}

// ---- process bookkeeping: every child we start is killed when this process ends ----

const children = new Map<number, ChildProcess>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL whatever is still running.
  process.on("exit", () => {
    for (const child of children.values()) killQuietly(child, "SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      for (const child of children.values()) killQuietly(child, "SIGTERM");
      // Adding a listener disables Node's default "exit on signal"; restore it unless someone
      // else (e.g. Vitest) also listens and will shut down in its own way.
      if (process.listenerCount(sig) === 1)
        process.exit(128 + (sig === "SIGINT" ? 2 : sig === "SIGHUP" ? 1 : 15));
    });
  }
}

function killQuietly(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  try {
    process.kill(child.pid, sig);
  } catch {
    // already gone
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(
  child: ChildProcess,
  graceMs: number,
  signal: NodeJS.Signals = "SIGTERM",
): Promise<void> {
  killQuietly(child, signal);
  if (!(await waitExit(child, graceMs))) {
    killQuietly(child, "SIGKILL");
    await waitExit(child, 5000);
  }
  if (child.pid) children.delete(child.pid);
}

/** Stops every server this process started (e.g. in an afterAll or a globalSetup teardown). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...children.values()].map((c) => stopChild(c, graceMs)));
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

// ---- per-server recipes ----

interface Recipe {
  command: string;
  args: string[];
  env?: Record<string, string>;
  endpoint: string;
  timeoutMs: number;
  ready(): Promise<boolean>;
  /** Runs once the server is ready; returns RunningServer.extra. */
  extra?(): Promise<Record<string, string>>;
  /** Run the server as this user (PostgreSQL refuses root). */
  user?: { uid: number; gid: number } | undefined;
  /** The signal that stops it quickly (PostgreSQL: SIGINT, its fast shutdown). @default SIGTERM */
  stopSignal?: NodeJS.Signals;
  /** Runs after the server stopped (removes a throwaway data dir). */
  cleanup?(): void;
}

function javaHome(): string {
  const file = dir("lowkey", "java-home");
  const home = existsSync(file) ? readFileSync(file, "utf8").trim() : (process.env.JAVA_HOME ?? "");
  if (!home) throw new Error("lowkey: no Java 25 found; rerun scripts/emulators/install.sh lowkey");
  return home;
}

async function recipe(name: ServerName, port: number): Promise<Recipe> {
  const local = `127.0.0.1:${port}`;
  switch (name) {
    case "moto":
      return {
        command: BINARY.moto,
        args: ["-H", "127.0.0.1", "-p", String(port)],
        endpoint: `http://${local}`,
        timeoutMs: 30_000,
        ready: () => httpOk(`http://${local}/moto-api/`),
        extra: async () => ({ region: "us-east-1", accessKeyId: "test", secretAccessKey: "test" }),
      };
    case "openbao":
      return {
        command: BINARY.openbao,
        // -dev-no-store-token: dev mode would otherwise write the token to ~/.vault-token.
        args: [
          "server",
          "-dev",
          "-dev-root-token-id=root",
          `-dev-listen-address=${local}`,
          "-dev-no-store-token",
        ],
        endpoint: `http://${local}`,
        timeoutMs: 30_000,
        ready: () => httpOk(`http://${local}/v1/sys/health`, (s) => s === 200),
        extra: async () => ({ rootToken: "root", kvMount: "secret" }),
      };
    case "lowkey": {
      const tokenPort = await freePort();
      const tokenBase = `http://127.0.0.1:${tokenPort}`;
      return {
        command: path.join(javaHome(), "bin", "java"),
        args: [
          // Faster JVM start on 2 cores; the tests are I/O bound, peak JIT speed does not matter.
          "-XX:TieredStopAtLevel=1",
          "-XX:+UseSerialGC",
          "-jar",
          BINARY.lowkey,
          "--server.address=127.0.0.1",
          `--server.port=${port}`,
          // The plain-HTTP token connector cannot be bound to loopback: Lowkey adds it as a bare
          // Tomcat connector (LowkeyVaultApp.createTokenConnector) with no address property, and
          // server.address applies to the HTTPS one only. It serves only /ping and /metadata/*
          // (PortSeparationFilter), never a vault.
          `--app.token.port=${tokenPort}`,
          // Match vaults by host name only, so https://127.0.0.1:<any port> (a Toxiproxy port too) is the test vault.
          "--LOWKEY_VAULT_RELAXED_PORTS=true",
          // No default vaults: they are purge-protected (Recoverable); extra() creates the test vaults.
          "--LOWKEY_VAULT_NAMES=-",
        ],
        endpoint: `https://${local}`,
        timeoutMs: 90_000,
        ready: () => httpOk(`${tokenBase}/ping`),
        extra: async () => {
          const caPem = await lowkeyCaPem(`${tokenBase}/metadata/default-cert/lowkey-vault.p12`);
          mkdirSync(LOGS_DIR, { recursive: true });
          const caFile = path.join(LOGS_DIR, `lowkey-${port}-ca.pem`);
          writeFileSync(caFile, caPem);
          // The test vault lets deleted secrets be purged; the second one (another host name,
          // same port) has purge protection, as many production vaults do.
          const endpoint = `https://${local}`;
          const protectedEndpoint = `https://localhost:${port}`;
          await lowkeyCreateVault(endpoint, caPem, endpoint, LOWKEY_TEST_RECOVERY_LEVEL);
          await lowkeyCreateVault(endpoint, caPem, protectedEndpoint, "Recoverable");
          return {
            caPem,
            caFile,
            tokenPort: String(tokenPort),
            tokenEndpoint: `${tokenBase}/metadata/identity/oauth2/token`,
            recoveryLevel: LOWKEY_TEST_RECOVERY_LEVEL,
            protectedEndpoint,
          };
        },
      };
    }
    case "gcp":
      return {
        command: BINARY.gcp,
        // It listens on all interfaces (no host flag): only ever talk to it on 127.0.0.1.
        args: ["-port", String(port)],
        endpoint: local,
        timeoutMs: 15_000,
        ready: () => tcpOk(port),
        extra: async () => ({ host: "127.0.0.1" }),
      };
    case "postgres": {
      const cluster = prepareCluster(port);
      return {
        command: cluster.command,
        args: cluster.args,
        endpoint: cluster.url,
        timeoutMs: 30_000,
        ready: cluster.ready,
        extra: async () => ({ url: cluster.url, dataDir: cluster.dataDir }),
        user: cluster.user,
        stopSignal: "SIGINT",
        cleanup: cluster.cleanup,
      };
    }
    case "toxiproxy":
      return {
        command: BINARY.toxiproxy,
        args: ["-host", "127.0.0.1", "-port", String(port)],
        endpoint: `http://${local}`,
        timeoutMs: 15_000,
        ready: () => httpOk(`http://${local}/version`),
        extra: async () => ({ apiUrl: `http://${local}` }),
      };
  }
}

/** The recovery level of the vault the Azure suite runs on: soft delete, and purge allowed. */
export const LOWKEY_TEST_RECOVERY_LEVEL = "Recoverable+Purgeable";

/**
 * Creates a vault through Lowkey's management API (VaultManagementController: POST
 * /management/vault on the HTTPS port, no token needed), resolving once Lowkey answered 200 with
 * that vault. `recoverableDays` must be 90 for the non-"Customized" levels (RecoveryLevel.java).
 */
export function lowkeyCreateVault(
  endpoint: string,
  caPem: string,
  baseUri: string,
  recoveryLevel: string,
  recoverableDays = 90,
): Promise<void> {
  const body = JSON.stringify({ baseUri, recoveryLevel, recoverableDays });
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL("/management/vault", endpoint),
      {
        method: "POST",
        ca: caPem,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          let created: { baseUri?: unknown; recoveryLevel?: unknown } = {};
          try {
            created = JSON.parse(text);
          } catch {}
          if (res.statusCode === 200 && created.recoveryLevel === recoveryLevel) resolve();
          else
            reject(
              new Error(
                `lowkey: POST /management/vault ${baseUri} (${recoveryLevel}) -> ${res.statusCode} ${text.slice(0, 300)}`,
              ),
            );
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`lowkey: POST /management/vault timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/**
 * Lowkey serves its self-signed TLS cert as a PKCS#12 keystore (password "changeit"); the
 * Azure SDK needs it as PEM to trust it (`ca`). Uses openssl, falling back to the JDK's keytool.
 */
export async function lowkeyCaPem(p12Url: string): Promise<string> {
  const res = await fetch(p12Url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`lowkey: GET ${p12Url} -> ${res.status}`);
  mkdirSync(LOGS_DIR, { recursive: true });
  const p12 = path.join(LOGS_DIR, `lowkey-${process.pid}-${Date.now()}.p12`);
  writeFileSync(p12, Buffer.from(await res.arrayBuffer()));
  try {
    return pemFromP12(p12, "changeit");
  } finally {
    rmSync(p12, { force: true });
  }
}

export function pemFromP12(file: string, password: string): string {
  const attempts: Array<[string, string[]]> = [
    ["openssl", ["pkcs12", "-in", file, "-nokeys", "-passin", `pass:${password}`]],
    // OpenSSL 3 refuses keystores encrypted with old algorithms unless -legacy is given.
    ["openssl", ["pkcs12", "-legacy", "-in", file, "-nokeys", "-passin", `pass:${password}`]],
    [
      existsSync(dir("lowkey", "java-home")) ? path.join(javaHome(), "bin", "keytool") : "keytool",
      ["-list", "-rfc", "-keystore", file, "-storetype", "PKCS12", "-storepass", password],
    ],
  ];
  const errors: string[] = [];
  for (const [cmd, args] of attempts) {
    try {
      const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      const certs = out.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
      if (certs?.length) return `${certs.join("\n")}\n`;
      errors.push(`${cmd}: no certificate in output`);
    } catch (e) {
      errors.push(`${cmd}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(`cannot extract a PEM certificate from ${file}: ${errors.join("; ")}`);
}

/** The server exited before it was ready (e.g. its port was taken meanwhile): worth one retry. */
class EarlyExit extends Error {}

/** Spawns the installed server on a free loopback port and resolves once it answers. */
export async function startServer(name: ServerName, opts: StartOptions = {}): Promise<RunningServer> {
  if (!isInstalled(name)) {
    throw new Error(`${name} is not installed: run scripts/emulators/install.sh ${name}`);
  }
  installExitHooks();
  // A port picked by freePort() can be taken by someone else before the server binds it:
  // when we picked the port, one early exit is retried on a fresh one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(name, opts.port ?? (await freePort()), opts);
    } catch (e) {
      if (opts.port !== undefined || attempt >= 2 || !(e instanceof EarlyExit)) throw e;
    }
  }
}

async function startOnce(name: ServerName, port: number, opts: StartOptions): Promise<RunningServer> {
  const r = await recipe(name, port);
  mkdirSync(LOGS_DIR, { recursive: true });
  const logFile = path.join(LOGS_DIR, `${name}-${port}.log`);
  const fd = openSync(logFile, "a");
  const started = Date.now();
  let child: ChildProcess;
  try {
    // The child writes straight to the log file: no pipes to drain, and the log survives us.
    child = spawn(r.command, [...r.args, ...(opts.args ?? [])], {
      cwd: name === "postgres" ? "/" : dir(name),
      env: { ...process.env, ...r.env, ...opts.env },
      stdio: ["ignore", fd, fd],
      ...(r.user ?? {}),
    });
  } finally {
    closeSync(fd);
  }
  let spawnError: Error | undefined; // e.g. ENOENT: no 'exit' follows, only 'error'
  child.once("error", (e) => {
    spawnError = e;
  });
  if (child.pid) {
    const pid = child.pid;
    children.set(pid, child);
    child.once("exit", () => children.delete(pid));
  }

  const deadline = started + (opts.readyTimeoutMs ?? r.timeoutMs);
  const fail = async (msg: string, Kind: new (m: string) => Error = Error) => {
    await stopChild(child, 2000, r.stopSignal);
    r.cleanup?.();
    return new Kind(`${name}: ${msg} (log: ${logFile})\n${tail(logFile)}`);
  };
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw await fail(`exited with ${child.exitCode ?? child.signalCode} before it was ready`, EarlyExit);
    }
    if (spawnError) throw await fail(`cannot start ${r.command}: ${spawnError.message}`);
    if (await r.ready()) break;
    if (Date.now() > deadline) throw await fail(`not ready after ${Date.now() - started} ms`);
    await sleep(150);
  }

  let extra: Record<string, string>;
  try {
    extra = (await r.extra?.()) ?? {};
  } catch (e) {
    throw await fail((e as Error).message);
  }
  const graceMs = opts.stopGraceMs ?? 5000;
  return {
    name,
    endpoint: r.endpoint,
    port,
    pid: child.pid as number,
    extra: { ...extra, logFile, startMs: String(Date.now() - started) },
    stop: async () => {
      await stopChild(child, graceMs, r.stopSignal);
      r.cleanup?.();
    },
  };
}

/**
 * A server given from outside (e.g. docker-compose): KEYWAY_TEST_<NAME>_ENDPOINT, plus any
 * KEYWAY_TEST_<NAME>_<KEY> as extra.<camelKey> (e.g. KEYWAY_TEST_OPENBAO_ROOT_TOKEN →
 * extra.rootToken, KEYWAY_TEST_LOWKEY_CA_FILE → extra.caFile, whose file becomes extra.caPem).
 */
export function serverFromEnv(name: ServerName): RunningServer | undefined {
  const prefix = `KEYWAY_TEST_${name.toUpperCase()}_`;
  const endpoint = process.env[`${prefix}ENDPOINT`];
  if (!endpoint) return undefined;
  const extra: Record<string, string> = { ...DEFAULT_EXTRA[name] };
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith(prefix) || v === undefined || k === `${prefix}ENDPOINT` || k === `${prefix}PORT`)
      continue;
    const camel = k
      .slice(prefix.length)
      .toLowerCase()
      .replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    extra[camel] = v;
  }
  if (extra.caFile && !extra.caPem) extra.caPem = readFileSync(extra.caFile, "utf8");
  if (name === "toxiproxy" && !extra.apiUrl) extra.apiUrl = endpoint;
  const port = Number(process.env[`${prefix}PORT`] ?? endpoint.match(/:(\d+)\/?$/)?.[1] ?? 0);
  return { name, endpoint, port, pid: 0, extra, stop: async () => {} };
}

const DEFAULT_EXTRA: Record<ServerName, Record<string, string>> = {
  moto: { region: "us-east-1", accessKeyId: "test", secretAccessKey: "test" },
  openbao: { rootToken: "root", kvMount: "secret" },
  lowkey: {},
  gcp: { host: "127.0.0.1" },
  toxiproxy: {},
  postgres: {},
};

/** The external server from KEYWAY_TEST_<NAME>_ENDPOINT if set, else a freshly started one. */
export async function acquireServer(name: ServerName, opts: StartOptions = {}): Promise<RunningServer> {
  return serverFromEnv(name) ?? startServer(name, opts);
}

/** Publishes a server the way serverFromEnv() reads it back (for globalSetup → test workers). */
export function exportToEnv(server: RunningServer): void {
  process.env[envKey(server.name, "endpoint")] = server.endpoint;
  process.env[envKey(server.name, "port")] = String(server.port);
  for (const [k, v] of Object.entries(server.extra)) process.env[envKey(server.name, k)] = v;
}
