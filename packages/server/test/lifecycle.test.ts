/** Slow clients get 408; a graceful close lets the request in flight finish, then flushes the audit log. */
import { connect } from "node:net";
import { createMemoryBackend, createRouter, type SecretBackend } from "@keyway/core";
import { describe, expect, it } from "vitest";
import { createKeywayServer } from "../src/index.js";
import { jfetch, RULES, TOKEN } from "./helpers.js";

describe("keyway serve's lifecycle", () => {
  it("answers 408 to a client that never finishes its request head", async () => {
    const router = createRouter({
      backends: { main: createMemoryBackend(), team: createMemoryBackend(), acme: createMemoryBackend() },
      rules: RULES,
    });
    const server = createKeywayServer({
      router,
      rules: RULES,
      token: TOKEN,
      port: 0,
      headersTimeoutMs: 200,
      requestTimeoutMs: 400,
    });
    const { port } = await server.listen();
    try {
      const socket = connect(port, "127.0.0.1");
      socket.write("GET /api/v1/namespaces/company/secrets HTTP/1.1\r\nHost: x\r\nX-Slow: ");
      let answer = "";
      socket.on("data", (chunk) => {
        answer += chunk.toString();
      });
      await new Promise((resolve) => socket.on("close", resolve));
      expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      await server.close();
      await router.close();
    }
  });

  it("drains the request in flight on close, refuses new connections, and flushes the audit log", async () => {
    const team = createMemoryBackend({ name: "team", initial: { "company.team/SLOW": "slow-value" } });
    let release: () => void = () => {};
    let entered: () => void = () => {};
    const inBackend = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const get = team.get.bind(team);
    (team as SecretBackend).get = async (ref, options) => {
      entered();
      await gate;
      return get(ref, options);
    };
    const router = createRouter({
      backends: { main: createMemoryBackend(), team, acme: createMemoryBackend() },
      rules: RULES,
    });
    const lines: string[] = [];
    let flushed = false;
    const server = createKeywayServer({
      router,
      rules: RULES,
      token: TOKEN,
      port: 0,
      audit: {
        write: (event) => lines.push(event.key ?? ""),
        flush: async () => {
          flushed = true;
        },
      },
    });
    const { url } = await server.listen();
    server.ready();
    const inFlight = jfetch(`${url}/secretsmanager/get?secretId=company.team/SLOW`, {
      headers: { "X-Aws-Parameters-Secrets-Token": TOKEN },
    });
    await inBackend;
    const closing = server.close();
    await expect(fetch(`${url}/ping`)).rejects.toThrow();
    expect(flushed).toBe(false);
    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect((await response.json()).SecretString).toBe("slow-value");
    await closing;
    expect(flushed).toBe(true);
    expect(lines).toEqual(["SLOW"]);
    await router.close();
  });
});
