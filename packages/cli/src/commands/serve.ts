/**
 * `keyway serve` (registered in program.ts): the Kestra-shaped API, the console and the agent of
 * @keyway/server over the configured router, until SIGINT or SIGTERM; then a graceful shutdown.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, statSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  ConfigurationError,
  createRouter,
  type RouteRule,
  type Router,
  type SecretBackend,
} from "@keyway/core";
import { configSource, type GlobalOptions, sessionOf } from "../context.js";
import { CliError, type CliIO, EXIT, write } from "../io.js";
import { createSecretFile } from "../secret-file.js";

export interface ServeOptions {
  host: string;
  port: string;
  tokenFile?: string;
  auditFile?: string;
  rateLimit?: string;
}

/** The writable backend served when no config file is given: the store issue's embedded store. */
export type DefaultBackend = (io: CliIO) => Promise<{ name: string; type: string; backend: SecretBackend }>;

/**
 * With no config file, `keyway serve` serves Keyway's own embedded store in `.keyway/store`: the
 * one there (its key from KEYWAY_STORE_KEY, else `.keyway/store.key`), or a new one with a new key
 * file when there is none. A store that exists is never given a new key: a missing or wrong key is
 * the store's ConfigurationError.
 */
export const embeddedStoreBackend: DefaultBackend = async (io) => {
  const { createStore, DEFAULT_STORE_KEY_FILE, DEFAULT_STORE_PATH, storePackage } = await import(
    "./store.js"
  );
  const folder = path.resolve(io.cwd, DEFAULT_STORE_PATH);
  const keyFile = path.resolve(io.cwd, DEFAULT_STORE_KEY_FILE);
  if (!existsSync(folder)) {
    if (io.env.KEYWAY_STORE_KEY !== undefined)
      throw new ConfigurationError(
        `keyway serve found no keyway.yaml and no store in ${DEFAULT_STORE_PATH}, and will not create one under KEYWAY_STORE_KEY: run \`keyway store init\` (or unset KEYWAY_STORE_KEY to have a new key file made).`,
      );
    await createStore(io, { path: DEFAULT_STORE_PATH, keyFile: DEFAULT_STORE_KEY_FILE, name: "store" });
  }
  const { createStoreBackend } = await storePackage();
  const fromEnv = io.env.KEYWAY_STORE_KEY !== undefined;
  const backend = createStoreBackend({
    name: "store",
    path: folder,
    keyFile: fromEnv ? undefined : keyFile,
    env: io.env,
  });
  // Opened now, so a wrong or missing key stops the start with the store's typed error.
  await backend.prepare?.();
  await write(
    io.stderr,
    `keyway serve: no keyway.yaml: serving the embedded store in ${DEFAULT_STORE_PATH} (key from ${fromEnv ? "KEYWAY_STORE_KEY" : DEFAULT_STORE_KEY_FILE})\n`,
  );
  return { name: "store", type: "store", backend };
};

/** What a test replaces: the default backend and the stop signal (else SIGINT / SIGTERM). */
export interface ServeDependencies {
  defaultBackend: DefaultBackend;
  stop?: AbortSignal | undefined;
}

export function serve(io: CliIO, global: GlobalOptions, options: ServeOptions): Promise<void> {
  return serveWith(io, global, options, { defaultBackend: embeddedStoreBackend });
}

export async function serveWith(
  io: CliIO,
  global: GlobalOptions,
  options: ServeOptions,
  dependencies: ServeDependencies,
): Promise<void> {
  const port = Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError("--port takes 0-65535.", EXIT.invalid);
  const rateLimit = options.rateLimit === undefined ? undefined : Number(options.rateLimit);
  if (rateLimit !== undefined && !(Number.isInteger(rateLimit) && rateLimit >= 0))
    throw new CliError(
      "--rate-limit takes a whole number of requests per second (0: no limit).",
      EXIT.invalid,
    );
  const { createKeywayServer, createJsonLinesAuditLog } = await import("@keyway/server");
  const token = await serveToken(io, options.tokenFile);
  const { router, rules, backendTypes, backends } = await openServedRouter(
    io,
    global,
    dependencies.defaultBackend,
  );
  const auditStream = options.auditFile
    ? createWriteStream(path.resolve(io.cwd, options.auditFile), { flags: "a", mode: 0o600 })
    : io.stderr;
  const audit = createJsonLinesAuditLog(auditStream);
  const server = createKeywayServer({
    router,
    rules,
    backendTypes,
    backends,
    token,
    host: options.host,
    port,
    audit,
    rateLimit: rateLimit === undefined ? undefined : { perSecond: rateLimit },
  });
  try {
    if (!isLoopback(options.host))
      await write(
        io.stderr,
        `keyway serve: WARNING: listening on ${options.host}, not a loopback address: anyone who can reach it and holds the token can read every secret. Put TLS in front of it.\n`,
      );
    const { url } = await server.listen();
    try {
      await router.prepare();
    } catch (error) {
      await write(io.stderr, `keyway serve: warning: a backend is not ready: ${(error as Error).message}\n`);
    }
    server.ready();
    await write(
      io.stderr,
      `keyway serve: listening on ${url} (API ${url}/api/v1, console ${url}/console, agent ${url}/secretsmanager/get and ${url}/v1.0/secrets)\n`,
    );
    await stopped(dependencies.stop);
    await write(io.stderr, "keyway serve: shutting down (draining requests, flushing the audit log)\n");
  } finally {
    await server.close();
    await router.close();
    await audit.flush();
    if (auditStream !== io.stderr) await new Promise<void>((resolve) => auditStream.end(() => resolve()));
  }
}

/** KEYWAY_SERVE_TOKEN, else --token-file (created with a new token when missing), else a new 0600 file. */
async function serveToken(io: CliIO, tokenFile: string | undefined): Promise<string> {
  const fromEnv = io.env.KEYWAY_SERVE_TOKEN;
  if (fromEnv !== undefined && fromEnv !== "") return checked(fromEnv, "KEYWAY_SERVE_TOKEN");
  if (tokenFile !== undefined) {
    const file = path.resolve(io.cwd, tokenFile);
    if (existsSync(file)) {
      if ((statSync(file).mode & 0o077) !== 0)
        await write(io.stderr, `keyway serve: warning: ${file} can be read by other users; chmod 600 it.\n`);
      return checked((await readFile(file, "utf8")).trim(), file);
    }
    return generateTokenFile(io, file);
  }
  const dir = await mkdtemp(path.join(tmpdir(), "keyway-serve-"));
  return generateTokenFile(io, path.join(dir, "token"));
}

async function generateTokenFile(io: CliIO, file: string): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await createSecretFile(file, token, "token file");
  await write(io.stderr, `keyway serve: generated an access token in ${file} (mode 0600)\n`);
  return token;
}

function checked(token: string, source: string): string {
  if (token.length < 16 || /\s/.test(token))
    throw new CliError(
      `The token from ${source} must be at least 16 characters, without spaces.`,
      EXIT.invalid,
    );
  return token;
}

/** The configured router with its rules and backend types; without a config file, the default backend. */
async function openServedRouter(
  io: CliIO,
  global: GlobalOptions,
  defaultBackend: DefaultBackend,
): Promise<{
  router: Router;
  rules: readonly RouteRule[];
  backendTypes: Record<string, string>;
  backends: Readonly<Record<string, SecretBackend>>;
}> {
  const { readConfigFile, parseConfig, createConfiguredRouter } = await import("@keyway/core/config");
  const source = configSource(io, global);
  const env = source.env;
  const file = source.path === undefined ? undefined : await readConfigFile({ path: source.path, env });
  const session = sessionOf(io);
  if (file === undefined) {
    const { name, type, backend } = await defaultBackend(io);
    const rules: RouteRule[] = [{ match: "", backend: name }];
    return {
      router: createRouter({ backends: { [name]: backend }, rules, redactor: session.redactor }),
      rules,
      backendTypes: { [name]: type },
      backends: { [name]: backend },
    };
  }
  const parsed = parseConfig(file.text, { env, source: file.source });
  // Relative paths in the file (a store's `path:`) are the config file's folder's, as everywhere.
  const { router, backends } = await createConfiguredRouter(parsed, {
    env,
    redactor: session.redactor,
    baseDir: path.dirname(file.source),
  });
  const backendTypes = Object.fromEntries(
    Object.entries(parsed.config.backends).map(([name, raw]) => [name, raw.type]),
  );
  return { router, rules: parsed.config.namespaces, backendTypes, backends };
}

/** 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Resolves on `stop`'s abort, else on the first SIGINT or SIGTERM. */
function stopped(stop: AbortSignal | undefined): Promise<void> {
  if (stop)
    return new Promise((resolve) =>
      stop.aborted ? resolve() : stop.addEventListener("abort", () => resolve()),
    );
  return new Promise((resolve) => {
    const done = () => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
