// Shared by the server tests: the OpenBao the project's globalSetup started, a root-token HTTP
// helper for setting up mounts, auth methods and policies, and a random prefix per run.
import { randomBytes } from "node:crypto";
import { serverFromEnv } from "@keyway/test-servers";
import type {} from "@keyway/test-servers/global-setup";
import { inject } from "vitest";

export const server = inject("keywayServers")?.openbao ?? serverFromEnv("openbao");
export const endpoint = server?.endpoint ?? "http://127.0.0.1:1";
export const rootToken = server?.extra.rootToken ?? "root";

/** A prefix unique to this run, so parallel files and reruns never meet. */
export const runPrefix = (label: string) => `keyway-test/${label}-${randomBytes(4).toString("hex")}`;

/** Calls the Vault HTTP API as root; throws on any non-2xx. */
export async function sys<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
  token = rootToken,
): Promise<T> {
  const res = await fetch(`${endpoint}/v1/${path}`, {
    method,
    headers: { "x-vault-token": token, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Enables an auth method or secrets engine unless it is already there (files share one server). */
export async function enable(kind: "auth" | "mounts", path: string, body: unknown): Promise<void> {
  try {
    await sys("POST", `sys/${kind}/${path}`, body);
  } catch (error) {
    if (!/already in use|path is already/i.test(String(error))) throw error;
  }
}
