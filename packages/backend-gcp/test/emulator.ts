// Shared by the *.server.test.ts files: where the emulator is, a raw SDK client for setting up
// states Keyway never writes (disabled, destroyed versions), and a random project per file.
import { randomBytes } from "node:crypto";
import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { serverFromEnv } from "@keyway/test-servers";
import { grpc } from "google-gax";
import { inject } from "vitest";

/** `127.0.0.1:PORT` of the emulator the project's globalSetup started, if any. */
export const endpoint: string | undefined =
  inject("keywayServers")?.gcp?.endpoint ?? serverFromEnv("gcp")?.endpoint;

/** A project id unique to one test file: the emulator keeps projects apart, so files never see each other. */
export const randomProject = () => `keyway-${randomBytes(4).toString("hex")}`;

/** A run-unique prefix. */
export const randomPrefix = () => `kw${randomBytes(3).toString("hex")}`;

/** A plain SDK client on the emulator, for states the backend never creates itself. */
export function adminClient(): SecretManagerServiceClient {
  const [host, port] = (endpoint ?? "").split(":");
  return new SecretManagerServiceClient({
    apiEndpoint: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
    clientOptions: { universeDomain: "googleapis.com" },
  });
}

/** `client` with every method call's name pushed to `calls`: which RPCs a backend sent. */
export function countingClient<T extends object>(client: T, calls: string[]): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver);
      if (typeof member !== "function" || typeof property !== "string") return member;
      return (...args: unknown[]) => {
        calls.push(property);
        return member.apply(target, args);
      };
    },
  });
}
