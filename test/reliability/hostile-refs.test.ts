// Hostile references (traversal, encoded separators, NUL and control characters, look-alikes,
// overlong fields, bad tenants, wrong types) are refused with InvalidReferenceError before any
// backend is called: through the router (every entry point) and through each backend directly.
// Calls are counted three ways: a wrapper around each backend the router holds, requests on the
// wire in front of each real server, and the calls of Azure's fake client.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createAzureBackend } from "@keyway/backend-azure";
import { createEnvBackend } from "@keyway/backend-env";
import {
  createMemoryBackend,
  createRouter,
  InvalidReferenceError,
  isSecretsError,
  type Router,
  type SecretBackend,
  type SecretRef,
} from "@keyway/core";
import { CHANNELS } from "@keyway/core/otel";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeBackend, runId } from "./support/backends.js";
import { watchUnhandledRejections } from "./support/checks.js";
import { type FaultyLink, faultyLink } from "./support/faults.js";
import { CATALOGUE, invalidRef, WRONG_TYPES } from "./support/hostile.js";
import { count, reportCounters } from "./support/stats.js";

reportCounters(import.meta.url);
watchUnhandledRejections();

/** What the test is trying now, for the call logs. */
const current = { label: "" };

/** Counts every call the router (or a test) makes into `backend`. */
function counted(backend: SecretBackend, calls: { n: number; log: string[] }): SecretBackend {
  const wrap = <A extends unknown[], R>(name: string, fn: ((...args: A) => Promise<R>) | undefined) =>
    fn &&
    ((...args: A) => {
      calls.n++;
      calls.log.push(`${backend.name}.${name} during ${current.label}`);
      return fn.apply(backend, args);
    });
  return {
    name: backend.name,
    capabilities: backend.capabilities,
    get: wrap("get", backend.get) as SecretBackend["get"],
    getMany: wrap("getMany", backend.getMany),
    list: wrap("list", backend.list),
    put: wrap("put", backend.put),
    delete: wrap("delete", backend.delete),
    close: backend.close?.bind(backend),
  };
}

/** An Azure SecretClient that counts every call and answers none. */
function azureFake(calls: { n: number; log: string[] }) {
  const refuse = (name: string) => () => {
    calls.n++;
    calls.log.push(`azure-sdk.${name} during ${current.label}`);
    return Promise.reject(new Error("the fake Key Vault was called"));
  };
  return {
    getSecret: refuse("getSecret"),
    setSecret: refuse("setSecret"),
    beginDeleteSecret: refuse("beginDeleteSecret"),
    beginRecoverDeletedSecret: refuse("beginRecoverDeletedSecret"),
    purgeDeletedSecret: refuse("purgeDeletedSecret"),
    getDeletedSecret: refuse("getDeletedSecret"),
    listPropertiesOfSecrets: () => {
      calls.n++;
      calls.log.push("azure-sdk.listPropertiesOfSecrets");
      return { [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error("called")) }) };
    },
  };
}

describe("invalid references never reach a backend", () => {
  const scope = runId();
  const links: Partial<Record<"moto" | "openbao" | "gcp", FaultyLink>> = {};
  const routerCalls = { n: 0, log: [] as string[] };
  const sdkCalls = { n: 0, log: [] as string[] };
  const direct: SecretBackend[] = [];
  let router: Router;
  const audit: unknown[] = [];
  const events: unknown[] = [];
  const onEvent = (event: unknown) => events.push(event);

  beforeAll(async () => {
    for (const kind of ["moto", "openbao", "gcp"] as const) links[kind] = await faultyLink(kind);
    const real = (kind: "moto" | "openbao" | "gcp", name: string) =>
      makeBackend(kind, { address: (links[kind] as FaultyLink).address, scope, name });
    const azure = () =>
      createAzureBackend({ client: azureFake(sdkCalls) as never, name: "azure", pollIntervalMs: 1 });
    const env = () => createEnvBackend({ env: { SECRET_API_TOKEN: "dDBrZW4=" }, name: "env" });
    const memory = () =>
      createMemoryBackend({ name: "memory", initial: { "team/API_TOKEN": "t0ken-memory" } });
    direct.push(real("moto", "aws"), real("openbao", "vault"), real("gcp", "gcp"), azure(), env(), memory());
    const backends = {
      vault: counted(real("openbao", "vault"), routerCalls),
      aws: counted(real("moto", "aws"), routerCalls),
      gcp: counted(real("gcp", "gcp"), routerCalls),
      azure: counted(azure(), routerCalls),
      env: counted(env(), routerCalls),
      memory: counted(memory(), routerCalls),
    };
    router = createRouter({
      backends,
      rules: [
        { match: "", backend: "vault", fallback: ["aws"] },
        { match: "team", backend: "aws" },
        { match: "gcp", backend: "gcp" },
        { match: "az", backend: "azure" },
        { match: "envns", backend: "env" },
        { match: "mem", backend: "memory", readOnly: true },
        { match: "", tenant: "acme", backend: "memory" },
      ],
      // Telemetry and audit both see every failure: neither may turn a refusal into a crash.
      audit: (event) => {
        audit.push(event);
      },
    });
    subscribe(CHANNELS.resolve, onEvent);
  });

  afterAll(async () => {
    unsubscribe(CHANNELS.resolve, onEvent);
    await router?.close();
    for (const backend of direct) await backend.close?.();
    for (const link of Object.values(links)) await link?.close();
  });

  /** Runs one call with an invalid ref: it must fail with InvalidReferenceError, and is counted. */
  async function refused(what: string, call: () => Promise<unknown> | unknown): Promise<void> {
    count("invalidTried");
    current.label = what;
    let outcome: unknown;
    try {
      outcome = await call();
    } catch (error) {
      outcome = error;
    }
    if (outcome instanceof InvalidReferenceError) count("invalidRejected");
    // Soft: one run lists every entry point that let an input through, not just the first.
    expect
      .soft(outcome, `${what}: ${isSecretsError(outcome) ? outcome.name : String(outcome)}`)
      .toBeInstanceOf(InvalidReferenceError);
  }

  async function tryEverything(ref: unknown, label: string): Promise<void> {
    const r = ref as SecretRef;
    await refused(`router.resolve ${label}`, () => router.resolve(r));
    await refused(`router.resolve subkey ${label}`, () => router.resolve(r, { subkey: "user" }));
    await refused(`router.resolve as caller ${label}`, () => router.resolve(r, { caller: "team" }));
    await refused(`router.resolveMany ${label}`, async () => (await router.resolveMany([r])).get(r));
    await refused(`router.explain ${label}`, async () => (await router.explain(r)).error);
    await refused(`router.put ${label}`, () => router.put(r, "value"));
    await refused(`router.delete ${label}`, () => router.delete(r));
    for (const backend of direct) {
      await refused(`${backend.name}.get ${label}`, () => backend.get(r));
      if (backend.getMany) {
        await refused(`${backend.name}.getMany ${label}`, async () => {
          const many = backend.getMany as NonNullable<SecretBackend["getMany"]>;
          return (await many([r])).get(r);
        });
      }
      if (backend.put) await refused(`${backend.name}.put ${label}`, () => backend.put?.(r, "value"));
      if (backend.delete) await refused(`${backend.name}.delete ${label}`, () => backend.delete?.(r));
    }
    const { namespace, tenant } = (typeof ref === "object" && ref !== null ? ref : {}) as Record<
      string,
      unknown
    >;
    const badScope = !isValidScope(namespace, tenant);
    if (badScope) {
      await refused(`router.list ${label}`, () =>
        router.list(namespace as string, { tenant: tenant as string | undefined }),
      );
      for (const backend of direct) {
        if (backend.list && !backend.capabilities.global) {
          await refused(`${backend.name}.list ${label}`, () =>
            backend.list?.(namespace as string, { tenant: tenant as string | undefined }),
          );
        }
      }
    }
  }

  it("refuses the catalogue of classic attacks", async () => {
    for (const { label, ref } of CATALOGUE) await tryEverything(ref, label);
    expectNoCalls();
  });

  it("refuses generated invalid references (property)", async () => {
    await fc.assert(
      fc.asyncProperty(invalidRef, async (ref) => {
        await tryEverything(ref, JSON.stringify(ref) ?? String(ref));
      }),
      { numRuns: 200 },
    );
    expectNoCalls();
  });

  it("refuses invalid references in templates and versions before any call", async () => {
    // (In a template `\\u0000` is an escaped `u`, a valid key: the NUL here is a real one.)
    for (const key of ["../etc/passwd", "A%2FB", "A\u0000B", "A\\\\B", "К", "A B"]) {
      count("invalidTried");
      current.label = `render key ${key}`;
      const error = await router
        .render(`password: {{ secret('${key}') }}`, { namespace: "team" })
        .catch((e: unknown) => e);
      expect(isSecretsError(error), String(error)).toBe(true);
      if (isSecretsError(error)) count("invalidRejected");
    }
    for (const namespace of ["../..", "team/../x", "a..b"]) {
      count("invalidTried");
      current.label = `render namespace ${namespace}`;
      const error = await router
        .render(`{{ secret('API_TOKEN', namespace='${namespace}') }}`, { namespace: "team" })
        .catch((e: unknown) => e);
      expect(isSecretsError(error), String(error)).toBe(true);
      if (isSecretsError(error)) count("invalidRejected");
    }
    const [, vault, gcp] = direct as [SecretBackend, SecretBackend, SecretBackend];
    for (const version of ["../1", "latest/../../x", "1%2F2", "1 OR 1=1", "\u0000", "-1", "0"]) {
      for (const backend of [vault, gcp]) {
        await refused(`${backend.name}.get version ${JSON.stringify(version)}`, () =>
          backend.get({ namespace: "team", key: "API_TOKEN" }, { version }),
        );
      }
    }
    expectNoCalls();
  });

  // Found by this suite: ref.ts shows a bad field in its message with String(field), which throws
  // for an object without a prototype (so validateRef threw a TypeError, and the router turned it
  // into "unavailable"); and with an audit sink or a telemetry subscriber, the router read
  // `ref.tenant` of a null ref while recording the failure and threw a TypeError too.
  it("refuses refs of the wrong type with a typed error, whatever they are", async () => {
    for (const { label, ref } of WRONG_TYPES) await tryEverything(ref, label);
    expectNoCalls();
  });

  function expectNoCalls(): void {
    const onTheWire = Object.values(links).reduce((n, link) => n + (link?.counter.requests ?? 0), 0);
    const calls = routerCalls.n + sdkCalls.n + onTheWire;
    count("invalidBackendCalls", calls);
    const log = [...routerCalls.log, ...sdkCalls.log];
    routerCalls.n = 0;
    sdkCalls.n = 0;
    routerCalls.log.length = 0;
    sdkCalls.log.length = 0;
    for (const link of Object.values(links)) link?.counter.reset();
    expect({ calls, log }).toEqual({ calls: 0, log: [] });
  }
});

function isValidScope(namespace: unknown, tenant: unknown): boolean {
  const nsOk =
    typeof namespace === "string" &&
    (namespace === "" ||
      (namespace.length <= 150 && namespace.split(".").every((s) => /^[A-Za-z0-9_-]+$/.test(s))));
  const tenantOk =
    tenant === undefined || (typeof tenant === "string" && /^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant));
  return nsOk && tenantOk;
}
