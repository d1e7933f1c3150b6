// A small client for Toxiproxy's HTTP API (global fetch only). Each test creates its own
// proxy in front of a real server, adds faults, and deletes the proxy when done:
//
//   const tp = new ToxiproxyClient(server.extra.apiUrl);
//   const proxy = await tp.createProxy({ name: "bao", upstream: "127.0.0.1:8200" });
//   await proxy.addToxic({ type: "latency", attributes: { latency: 500 } });
//   ... talk to proxy.endpoint ("127.0.0.1:PORT") ...
//   await proxy.delete();

export type ToxicStream = "upstream" | "downstream";

/** Attributes per toxic type, as Toxiproxy names them (times in ms, sizes in bytes, rate in KB/s). */
export interface ToxicAttributes {
  latency: { latency: number; jitter?: number };
  /** Stops all data; closes the connection after `timeout` ms (0 = never). */
  timeout: { timeout: number };
  /** Resets the connection (TCP RST) after `timeout` ms. */
  reset_peer: { timeout: number };
  bandwidth: { rate: number };
  /** Closes the connection once `bytes` have passed. */
  limit_data: { bytes: number };
  slow_close: { delay: number };
  slicer: { average_size: number; size_variation?: number; delay?: number };
}
export type ToxicType = keyof ToxicAttributes;

export type ToxicSpec = {
  [T in ToxicType]: {
    type: T;
    attributes: ToxicAttributes[T];
    /** Default: `${type}_${stream}` (Toxiproxy's own default). */
    name?: string;
    /** Default "downstream" (server → client). */
    stream?: ToxicStream;
    /** Probability 0..1 that a connection gets the toxic; default 1. */
    toxicity?: number;
  };
}[ToxicType];

export interface Toxic {
  name: string;
  type: ToxicType;
  stream: ToxicStream;
  toxicity: number;
  attributes: Record<string, number>;
}

interface ProxyJson {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: Toxic[];
}

export class ToxiproxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ToxiproxyClient {
  readonly apiUrl: string;

  constructor(apiUrl: string) {
    this.apiUrl = apiUrl.replace(/\/+$/, "");
  }

  /** @internal */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.apiUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new ToxiproxyError(res.status, `toxiproxy ${method} ${path} -> ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async version(): Promise<string> {
    return (await this.request<{ version: string }>("GET", "/version")).version;
  }

  /**
   * Creates a proxy listening on `listen` (default "127.0.0.1:0": Toxiproxy binds a free port and
   * reports it, so no port race) that forwards to `upstream` ("host:port" or a URL).
   */
  async createProxy(opts: {
    name: string;
    upstream: string;
    listen?: string;
    enabled?: boolean;
  }): Promise<ProxyHandle> {
    const json = await this.request<ProxyJson>("POST", "/proxies", {
      name: opts.name,
      listen: opts.listen ?? "127.0.0.1:0",
      upstream: hostPort(opts.upstream),
      enabled: opts.enabled ?? true,
    });
    return new ProxyHandle(this, json);
  }

  async getProxy(name: string): Promise<ProxyHandle> {
    return new ProxyHandle(
      this,
      await this.request<ProxyJson>("GET", `/proxies/${encodeURIComponent(name)}`),
    );
  }

  async deleteProxy(name: string): Promise<void> {
    await this.request("DELETE", `/proxies/${encodeURIComponent(name)}`);
  }

  /** Re-enables every proxy and removes every toxic (proxies themselves stay). */
  async reset(): Promise<void> {
    await this.request("POST", "/reset");
  }
}

export class ProxyHandle {
  name: string;
  /** "127.0.0.1:PORT" as Toxiproxy bound it. */
  listen: string;
  upstream: string;
  enabled: boolean;

  constructor(
    private readonly client: ToxiproxyClient,
    json: ProxyJson,
  ) {
    this.name = json.name;
    this.listen = json.listen;
    this.upstream = json.upstream;
    this.enabled = json.enabled;
  }

  get port(): number {
    return Number(this.listen.slice(this.listen.lastIndexOf(":") + 1));
  }

  /** Base URL through the proxy, e.g. proxy.url("http") → "http://127.0.0.1:PORT". */
  url(scheme = "http"): string {
    return `${scheme}://127.0.0.1:${this.port}`;
  }

  private get path(): string {
    return `/proxies/${encodeURIComponent(this.name)}`;
  }

  async addToxic(spec: ToxicSpec): Promise<Toxic> {
    return this.client.request<Toxic>("POST", `${this.path}/toxics`, {
      type: spec.type,
      name: spec.name,
      stream: spec.stream ?? "downstream",
      toxicity: spec.toxicity ?? 1,
      attributes: spec.attributes,
    });
  }

  async removeToxic(name: string): Promise<void> {
    await this.client.request("DELETE", `${this.path}/toxics/${encodeURIComponent(name)}`);
  }

  async toxics(): Promise<Toxic[]> {
    return this.client.request<Toxic[]>("GET", `${this.path}/toxics`);
  }

  /** Disabling closes the listener and every open connection; clients then get ECONNREFUSED. */
  async disable(): Promise<void> {
    await this.setEnabled(false);
  }

  /** Listens again on the same port. */
  async enable(): Promise<void> {
    await this.setEnabled(true);
  }

  private async setEnabled(enabled: boolean): Promise<void> {
    const json = await this.client.request<ProxyJson>("POST", this.path, { enabled });
    this.enabled = json.enabled;
    this.listen = json.listen;
  }

  async delete(): Promise<void> {
    await this.client.deleteProxy(this.name);
  }
}

/** "http://127.0.0.1:8200/x" → "127.0.0.1:8200"; "127.0.0.1:9090" stays as it is. */
function hostPort(upstream: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(upstream)) return upstream;
  const u = new URL(upstream);
  return `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}`;
}
