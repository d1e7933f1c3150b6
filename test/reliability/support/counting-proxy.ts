// A TCP pass-through in front of a real server that counts the requests arriving at it: HTTP/1.x
// request heads (moto, OpenBao), or HTTP/2 streams opened by the client (gRPC: the GCP emulator).
// It sits between Toxiproxy and the server (Keyway → Toxiproxy → counter → server), so a request
// Toxiproxy lets through is counted whatever happens to its answer on the way back: that is how
// the tests see that attempts do not multiply (the vendor SDKs' own retries are off).
import { connect, createServer, type Socket } from "node:net";
import { count } from "./stats.js";

export interface CountingProxy {
  readonly port: number;
  /** Requests seen since the start (or the last `reset`). */
  readonly requests: number;
  /** TCP connections accepted. */
  readonly connections: number;
  /** The first line of each HTTP/1 request (plus x-amz-target), or `h2 stream N`. */
  readonly log: readonly string[];
  reset(): void;
  close(): Promise<void>;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export async function startCountingProxy(upstreamPort: number): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  let requests = 0;
  let connections = 0;
  const log: string[] = [];
  const seen = (line: string) => {
    requests++;
    count("serverRequests");
    log.push(line);
  };

  const server = createServer((client) => {
    connections++;
    const upstream = connect(upstreamPort, "127.0.0.1");
    sockets.add(client);
    sockets.add(upstream);
    const parse = requestCounter(seen);
    client.on("data", parse);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (socket: Socket) => () => {
      sockets.delete(socket);
    };
    client.on("close", drop(client));
    upstream.on("close", drop(upstream));
    // Either side failing resets the other (a dead server looks like a reset to the client).
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    get requests() {
      return requests;
    },
    get connections() {
      return connections;
    },
    log,
    reset() {
      requests = 0;
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A parser of the client → server bytes of one connection that calls `seen` once per request. */
function requestCounter(seen: (line: string) => void): (chunk: Buffer) => void {
  let mode: "detect" | "h1" | "h2" = "detect";
  let buffer = Buffer.alloc(0);
  let skip = 0;
  let chunked = false;
  const streams = new Set<number>();
  return (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (skip > 0) {
        const n = Math.min(skip, buffer.length);
        buffer = buffer.subarray(n);
        skip -= n;
        if (skip > 0) return;
      }
      if (mode === "detect") {
        const head = buffer.subarray(0, PREFACE.length);
        if (head.length < PREFACE.length && PREFACE.subarray(0, head.length).equals(head)) return;
        if (head.equals(PREFACE)) {
          mode = "h2";
          buffer = buffer.subarray(PREFACE.length);
        } else mode = "h1";
      }
      if (mode === "h2") {
        if (buffer.length < 9) return;
        const length = buffer.readUIntBE(0, 3);
        const type = buffer[3];
        const stream = buffer.readUInt32BE(5) & 0x7fffffff;
        buffer = buffer.subarray(9);
        skip = length;
        // HEADERS (type 1) on a stream not seen before opens a request.
        if (type === 1 && stream !== 0 && !streams.has(stream)) {
          streams.add(stream);
          seen(`h2 stream ${stream}`);
        }
        continue;
      }
      if (chunked) {
        // The last chunk of a chunked body ends with "0\r\n\r\n" (no trailers from our clients).
        const end = buffer.indexOf("0\r\n\r\n");
        if (end === -1) {
          buffer = buffer.subarray(Math.max(0, buffer.length - 4));
          return;
        }
        buffer = buffer.subarray(end + 5);
        chunked = false;
        continue;
      }
      const end = buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buffer.subarray(0, end).toString("latin1");
      buffer = buffer.subarray(end + 4);
      if (head.trim() === "") continue;
      const target = /\r\nx-amz-target:\s*([^\r\n]+)/i.exec(head)?.[1];
      seen(`${head.split("\r\n")[0]}${target ? ` ${target}` : ""}`);
      skip = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
    }
  };
}
