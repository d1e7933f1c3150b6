// A local HTTPS server that answers the real @azure/keyvault-secrets SDK with recorded Key Vault
// responses, in order, so the backend's handling of shapes Lowkey Vault never produces runs
// through the SDK's own parsing, paging and polling. It binds 127.0.0.1 with a throwaway
// certificate made by openssl for this process, which the backend trusts through its `ca` option.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

/** The vault URL the fixtures are written with (as in the Azure SDK's recordings); replaced by the server's own. */
export const RECORDED_VAULT = "https://keyvault_name.vault.azure.net";

/** One recorded exchange: the request it answers and the response. */
export interface Exchange {
  method: "GET" | "PUT" | "POST" | "DELETE" | "PATCH";
  /** The path without query, e.g. `/deletedsecrets/NAME` (a trailing slash is ignored). */
  path: string;
  status: number;
  /** JSON body; every RECORDED_VAULT in it becomes this server's URL. */
  body?: unknown;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface RecordedVaultOptions {
  /** Sees each authorized request before it is answered (e.g. to abort the caller part way). */
  onRequest?: (request: SeenRequest, count: number) => void;
  /** Answer requests without a token with Key Vault's 401 challenge. @default true */
  challenge?: boolean;
}

export interface RecordedVault {
  /** https://127.0.0.1:PORT */
  readonly url: string;
  /** PEM of the throwaway certificate, for the backend's `ca` option. */
  readonly ca: string;
  /** Every authorized request, in order (the challenge round trips are left out). */
  readonly seen: SeenRequest[];
  /** Requests that did not match the next exchange (answered 500, which no test expects). */
  readonly unexpected: string[];
  /** Exchanges not requested yet. */
  remaining(): Exchange[];
  close(): Promise<void>;
}

/**
 * Key Vault's challenge (recorded shape): a request without a token gets 401 with the Bearer
 * challenge; the SDK then asks its credential for a token and sends the request again.
 */
const CHALLENGE =
  'Bearer authorization="https://login.windows.net/12345678-1234-1234-1234-123456789012", resource="https://vault.azure.net"';

let cert: { key: string; cert: string } | undefined;

/** A self-signed certificate for 127.0.0.1, made once per process. */
function throwawayCert(): { key: string; cert: string } {
  if (cert) return cert;
  const dir = mkdtempSync(path.join(tmpdir(), "keyway-azure-recorded-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const certFile = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    cert = { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") };
    return cert;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const normalize = (p: string) => (p.length > 1 ? p.replace(/\/+$/, "") : p);

/** Starts the server with the exchanges it will answer, in order. */
export async function startRecordedVault(
  script: readonly Exchange[],
  { onRequest, challenge = true }: RecordedVaultOptions = {},
): Promise<RecordedVault> {
  const { key, cert: pem } = throwawayCert();
  const queue = [...script];
  const seen: SeenRequest[] = [];
  const unexpected: string[] = [];
  let base = "";

  const reply = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const text =
      body === undefined
        ? ""
        : JSON.stringify(body).replaceAll(`${RECORDED_VAULT}:443`, base).replaceAll(RECORDED_VAULT, base);
    res.writeHead(status, {
      ...headers,
      ...(text ? { "content-type": "application/json; charset=utf-8" } : {}),
      "content-length": String(Buffer.byteLength(text)),
    });
    res.end(text);
  };

  const server = createServer({ key, cert: pem }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (challenge && !req.headers.authorization)
        return reply(res, 401, undefined, { "www-authenticate": CHALLENGE });
      const url = new URL(req.url ?? "/", base);
      const request = {
        method: req.method ?? "",
        path: normalize(url.pathname),
        query: url.searchParams,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(request);
      onRequest?.(request, seen.length);
      const next = queue[0];
      if (!next || next.method !== request.method || normalize(next.path) !== request.path) {
        unexpected.push(
          `${request.method} ${request.path} (expected ${next ? `${next.method} ${next.path}` : "nothing"})`,
        );
        return reply(res, 500, { error: { code: "Unexpected", message: "not in the recording" } });
      }
      queue.shift();
      reply(res, next.status, next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    ca: pem,
    seen,
    unexpected,
    remaining: () => [...queue],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
