// A child of the serve case: `keyway serve`'s server (built @keyway/server) over a memory backend,
// or a bare node:http server answering a fixed body of the same size; prints its port, then serves
// until killed; on SIGUSR2 it prints the CPU time it has used (µs). Run as
// `node serve-child.mjs keyway|bare <audit file>`.
import { createServer } from "node:http";

process.on("SIGUSR2", () => {
  const { user, system } = process.cpuUsage();
  console.log(JSON.stringify({ cpu: user + system }));
});

const [kind, auditFile] = process.argv.slice(-2);
export const TOKEN = "bench-token-0123456789abcdef";
const VALUE = "bench-secret-value-0123456789";

if (kind === "bare") {
  const body = JSON.stringify({
    Name: "company.team/API_TOKEN",
    SecretString: VALUE,
    VersionStages: ["AWSCURRENT"],
  });
  const server = createServer((_request, response) => {
    response.writeHead(200, {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
    });
    response.end(body);
  });
  server.listen(0, "127.0.0.1", () => console.log(JSON.stringify({ port: server.address().port })));
} else {
  const { createWriteStream } = await import("node:fs");
  const { createMemoryBackend, createRouter } = await import("@keyway/core");
  const { createKeywayServer, createJsonLinesAuditLog } = await import("@keyway/server");
  const rules = [{ match: "company", backend: "mem" }];
  const backends = { mem: createMemoryBackend({ initial: { "company.team/API_TOKEN": VALUE } }) };
  const router = createRouter({ backends, rules });
  const server = createKeywayServer({
    router,
    rules,
    token: TOKEN,
    port: 0,
    // Every request is audited to a file and passes the rate limiter (set above what 32 connections reach).
    audit: createJsonLinesAuditLog(createWriteStream(auditFile, { flags: "a", mode: 0o600 })),
    rateLimit: { perSecond: 10_000_000 },
  });
  const { port } = await server.listen();
  server.ready();
  console.log(JSON.stringify({ port }));
}
