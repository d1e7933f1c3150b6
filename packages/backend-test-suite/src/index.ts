/**
 * @keyway/backend-test-suite: the one contract every backend passes.
 * `defineBackendContract(runner, name, options)` from each backend's test, with the test runner's
 * functions as `runner` (`import * as vitest from "vitest"`), so the suite brings no runner of its
 * own. Capability switches on the backend turn groups on or off; `extra` carries backend-specific
 * cases.
 */
import { randomBytes } from "node:crypto";
import { inspect } from "node:util";
import {
  ConflictError,
  InvalidReferenceError,
  InvalidSecretValueError,
  isSecretsError,
  type PutMetadata,
  type SecretBackend,
  type SecretChange,
  SecretNotFoundError,
  type SecretRef,
  SecretValue,
} from "@keyway/core/backend";
import type { TestRunner } from "./runner.js";

export type { Assertion, AsyncAssertion, Expect, Matchers, TestBody, TestRunner } from "./runner.js";

/** A secret the backend must hold when `create` returns. */
export interface SeedSecret {
  readonly ref: SecretRef;
  readonly value: string;
  readonly metadata?: PutMetadata;
}

export interface ContractOptions {
  /**
   * Returns a fresh backend holding `seed` (writable backends may simply `put` them: see
   * {@link seedByPut}). Called once per suite; isolate runs with a random prefix.
   */
  create(seed: readonly SeedSecret[]): Promise<SecretBackend>;
  /** Whether the backend keeps namespaces apart (env does not: its secrets are global). */
  namespaced?: boolean;
  /** Backend-specific cases, run with the same backend inside the suite. */
  extra?: (context: () => ContractContext) => void;
  /** Per-test timeout for slow real servers. @default 20000 */
  timeoutMs?: number;
}

export interface ContractContext {
  readonly backend: SecretBackend;
  /** A namespace unique to this run. */
  readonly namespace: string;
  /** A key unique to this run: `prefix` plus random characters. */
  uniqueKey(prefix?: string): string;
}

/** Puts every seed secret; for writable backends' `create`. */
export async function seedByPut(backend: SecretBackend, seed: readonly SeedSecret[]): Promise<SecretBackend> {
  for (const s of seed) await backend.put?.(s.ref, s.value, s.metadata);
  return backend;
}

const run = randomBytes(4).toString("hex");
const UNICODE = "pässwörd-秘密-🔑-\u00e9\u0301";

/** Everything printable about `thing` that could leak: String, JSON, inspect, and an error's fields. */
export function printedForms(thing: unknown): string {
  const forms = [String(thing), safeJson(thing), inspect(thing, { depth: 10, showHidden: true })];
  if (thing instanceof Error)
    forms.push(thing.message, thing.stack ?? "", inspect(thing.cause, { depth: 10 }));
  return forms.join("\n");
}

function safeJson(thing: unknown): string {
  try {
    return JSON.stringify(thing) ?? "";
  } catch {
    return "";
  }
}

/**
 * Declares the contract suite for one backend, with `runner`'s `describe`/`it`/`expect` and hooks
 * (Vitest's module, or Jest's globals). Each test gets `options.timeoutMs`.
 */
export function defineBackendContract(runner: TestRunner, name: string, options: ContractOptions): void {
  const { describe, expect, beforeAll, afterAll } = runner;
  const namespace = `contract.r${run}`;
  const namespaced = options.namespaced ?? true;
  const ref = (key: string, ns = namespace): SecretRef => ({ namespace: ns, key });
  const values = {
    plain: `contract-value-${run}-plain`,
    unicode: `${UNICODE}-${run}`,
    json: JSON.stringify({ user: "admin", password: `pw-${run}`, port: 5432 }),
    multiline: `line one ${run}\nline two\n`,
  };
  const seed: SeedSecret[] = [
    {
      ref: ref("PLAIN"),
      value: values.plain,
      metadata: { description: "plain text", tags: { team: "core" } },
    },
    { ref: ref("UNICODE"), value: values.unicode },
    { ref: ref("JSON_VALUE"), value: values.json },
    { ref: ref("MULTILINE"), value: values.multiline },
    { ref: ref("Mixed_Case"), value: values.plain },
  ];
  let backend: SecretBackend;
  let counter = 0;
  const context: ContractContext = {
    get backend() {
      return backend;
    },
    namespace,
    uniqueKey: (prefix = "K") => `${prefix}_${run}_${counter++}`,
  };
  const timeout = options.timeoutMs ?? 20_000;
  // Jest and Vitest both take a test's timeout as the third argument.
  const it = (title: string, fn: () => unknown, ms = timeout) => runner.it(title, fn, ms);

  describe(`backend contract: ${name}`, () => {
    beforeAll(async () => {
      backend = await options.create(seed);
    }, 120_000);
    afterAll(async () => {
      await backend?.close?.();
    });

    it("declares its capabilities", () => {
      const c = backend.capabilities;
      for (const flag of ["write", "list", "batch", "versions", "caseSensitiveKeys"] as const) {
        expect(typeof c[flag]).toBe("boolean");
      }
      expect(c.maxValueBytes).toBeGreaterThan(0);
      expect(backend.name).toMatch(/\S/);
    });

    it("prepare, when it has one, may run twice at once and leaves the backend serving", async () => {
      if (!backend.prepare) return;
      await Promise.all([backend.prepare(), backend.prepare({ signal: new AbortController().signal })]);
      expect((await backend.get(ref("PLAIN"))).reveal()).toBe(values.plain);
    });

    it("gets a value, byte for byte, including unicode and line breaks", async () => {
      expect((await backend.get(ref("PLAIN"))).reveal()).toBe(values.plain);
      expect((await backend.get(ref("UNICODE"))).reveal()).toBe(values.unicode);
      expect((await backend.get(ref("JSON_VALUE"))).reveal()).toBe(values.json);
      expect((await backend.get(ref("MULTILINE"))).reveal()).toBe(values.multiline);
    });

    it("throws SecretNotFoundError with Kestra's message for a missing key", async () => {
      const key = context.uniqueKey("MISSING");
      const error = await backend.get(ref(key)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SecretNotFoundError);
      expect((error as Error).message).toBe(`Cannot find secret for key '${key}'.`);
    });

    it("rejects invalid references with InvalidReferenceError", async () => {
      for (const bad of [
        { namespace: namespace, key: "../etc" },
        { namespace: `${namespace}/x`, key: "A" },
        { namespace: "a..b", key: "A" },
        { namespace: namespace, key: "" },
        { namespace: namespace, key: "A", tenant: "Bad Tenant" },
      ]) {
        await expect(backend.get(bad as SecretRef)).rejects.toBeInstanceOf(InvalidReferenceError);
      }
    });

    it("follows capabilities.caseSensitiveKeys", async () => {
      const result = await backend.get(ref("MIXED_CASE")).catch((e: unknown) => e);
      if (backend.capabilities.caseSensitiveKeys) expect(result).toBeInstanceOf(SecretNotFoundError);
      else expect((result as SecretValue).reveal()).toBe(values.plain);
      expect((await backend.get(ref("Mixed_Case"))).reveal()).toBe(values.plain);
    });

    it("answers concurrent gets consistently", async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => backend.get(ref("PLAIN"))));
      expect(new Set(results.map((v) => v.reveal()))).toEqual(new Set([values.plain]));
    });

    it("never prints a value: String, JSON.stringify and util.inspect show the mask", async () => {
      const value = await backend.get(ref("PLAIN"));
      expect(value).toBeInstanceOf(SecretValue);
      expect(printedForms(value)).not.toContain(values.plain);
      expect(printedForms({ nested: [value] })).not.toContain(values.plain);
    });

    it(
      namespaced ? "keeps namespaces apart" : "serves the same keys in every namespace (global)",
      async () => {
        const elsewhere = [ref("PLAIN", `${namespace}.child`), ref("PLAIN", "contract.other")];
        for (const other of elsewhere) {
          if (namespaced) await expect(backend.get(other)).rejects.toBeInstanceOf(SecretNotFoundError);
          else expect((await backend.get(other)).reveal()).toBe(values.plain);
        }
      },
    );

    describe("list", () => {
      it("lists the keys of a namespace, sorted, with metadata and never values", async () => {
        if (!backend.capabilities.list || !backend.list) return expect(backend.list).toBeUndefined();
        const listed = await backend.list(namespace);
        const keys = listed.map((l) => l.key);
        for (const s of seed) expect(keys.map((k) => k.toUpperCase())).toContain(s.ref.key.toUpperCase());
        expect([...keys].sort()).toEqual(keys);
        expect(printedForms(listed)).not.toContain(values.plain);
        if (backend.capabilities.write) {
          const plain = listed.find((l) => l.key === "PLAIN");
          expect(plain?.metadata.description).toBe("plain text");
          expect(plain?.metadata.tags?.team).toBe("core");
        }
      });
    });

    describe("getMany", () => {
      it("maps each ref to its value or its typed error", async () => {
        if (!backend.getMany) return expect(backend.capabilities.batch).toBe(false);
        const missing = ref(context.uniqueKey("MISSING"));
        const refs = [ref("PLAIN"), missing, ref("UNICODE")];
        const result = await backend.getMany(refs);
        expect((result.get(refs[0] as SecretRef) as SecretValue).reveal()).toBe(values.plain);
        expect(result.get(missing)).toBeInstanceOf(SecretNotFoundError);
        expect((result.get(refs[2] as SecretRef) as SecretValue).reveal()).toBe(values.unicode);
      });
    });

    describe("writes", () => {
      it("puts, overwrites, deletes, and puts again after a delete", async () => {
        if (!backend.capabilities.write) {
          expect(backend.put === undefined || backend.capabilities.write === false).toBe(true);
          return;
        }
        const target = ref(context.uniqueKey("WRITE"));
        await backend.put?.(target, "first", { description: "d1", tags: { a: "1" } });
        expect((await backend.get(target)).reveal()).toBe("first");
        await backend.put?.(target, "second");
        expect((await backend.get(target)).reveal()).toBe("second");
        await backend.delete?.(target);
        await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
        await backend.put?.(target, "third");
        expect((await backend.get(target)).reveal()).toBe("third");
        await backend.delete?.(target);
      });

      it("deleting a missing secret is SecretNotFoundError", async () => {
        if (!backend.capabilities.write) return;
        await expect(backend.delete?.(ref(context.uniqueKey("NOPE")))).rejects.toBeInstanceOf(
          SecretNotFoundError,
        );
      });

      it("stores exactly maxValueBytes and refuses one byte more with a typed error that hides the value", async () => {
        if (!backend.capabilities.write) return;
        const max = backend.capabilities.maxValueBytes;
        const target = ref(context.uniqueKey("BIG"));
        const exact = `${"é".repeat(Math.floor((max - 1) / 2))}${"x".repeat(max - 2 * Math.floor((max - 1) / 2))}`;
        expect(Buffer.byteLength(exact)).toBe(max);
        await backend.put?.(target, exact);
        expect((await backend.get(target)).reveal()).toBe(exact);
        const over = `${exact}y`;
        const error = await backend.put?.(target, over).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidSecretValueError);
        expect(printedForms(error)).not.toContain(exact.slice(0, 64));
        await backend.delete?.(target);
      });

      it("writes unicode values byte for byte", async () => {
        if (!backend.capabilities.write) return;
        const target = ref(context.uniqueKey("UNI"));
        await backend.put?.(target, values.unicode);
        expect((await backend.get(target)).reveal()).toBe(values.unicode);
        await backend.delete?.(target);
      });

      it("reads an older version by the id its metadata gave", async () => {
        if (!backend.capabilities.write || !backend.capabilities.versions) return;
        const target = ref(context.uniqueKey("VER"));
        await backend.put?.(target, "v-one");
        const first = (await backend.get(target)).metadata.version;
        await backend.put?.(target, "v-two");
        expect(first).toBeDefined();
        expect((await backend.get(target, { version: first })).reveal()).toBe("v-one");
        expect((await backend.get(target)).reveal()).toBe("v-two");
        await backend.delete?.(target);
      });
    });

    describe("probeVersion", () => {
      it("a put that changes the value changes the version; an unchanged value keeps it", async () => {
        if (!backend.probeVersion) return;
        if (!backend.capabilities.write) {
          const first = await backend.probeVersion(ref("PLAIN"));
          expect(typeof first).toBe("string");
          expect(first).not.toBe("");
          expect(await backend.probeVersion(ref("PLAIN"))).toBe(first);
          return;
        }
        const target = ref(context.uniqueKey("ROTATE"));
        await backend.put?.(target, "rotate-one");
        const first = await backend.probeVersion(target);
        expect(typeof first).toBe("string");
        expect(first).not.toBe("");
        expect(await backend.probeVersion(target)).toBe(first);
        expect((await backend.get(target)).reveal()).toBe("rotate-one");
        await backend.put?.(target, "rotate-two");
        const second = await backend.probeVersion(target);
        expect(second).not.toBe(first);
        expect((await backend.get(target)).reveal()).toBe("rotate-two");
        expect(await backend.probeVersion(target)).toBe(second);
        for (const version of [first, second]) expect(version).not.toMatch(/rotate-(one|two)/);
        await backend.delete?.(target);
      });

      it("a missing secret is SecretNotFoundError, an invalid ref InvalidReferenceError", async () => {
        if (!backend.probeVersion) return;
        const key = context.uniqueKey("MISSING");
        const error = await backend.probeVersion(ref(key)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(SecretNotFoundError);
        expect((error as Error).message).toBe(`Cannot find secret for key '${key}'.`);
        await expect(backend.probeVersion({ namespace, key: "../etc" })).rejects.toBeInstanceOf(
          InvalidReferenceError,
        );
      });

      it("a deleted secret is SecretNotFoundError, and one written again has a new version", async () => {
        if (!backend.probeVersion || !backend.capabilities.write) return;
        const target = ref(context.uniqueKey("REDO"));
        await backend.put?.(target, "redo-one");
        const first = await backend.probeVersion(target);
        await backend.delete?.(target);
        await expect(backend.probeVersion(target)).rejects.toBeInstanceOf(SecretNotFoundError);
        await backend.put?.(target, "redo-two");
        expect(await backend.probeVersion(target)).not.toBe(first);
        await backend.delete?.(target);
      });
    });

    it("errors are typed Keyway errors that print no value", async () => {
      const errors: unknown[] = [];
      errors.push(await backend.get(ref(context.uniqueKey("MISSING"))).catch((e: unknown) => e));
      errors.push(await backend.get({ namespace, key: "bad key" }).catch((e: unknown) => e));
      for (const error of errors) {
        expect(isSecretsError(error)).toBe(true);
        for (const v of Object.values(values)) expect(printedForms(error)).not.toContain(v);
      }
    });

    defineCapabilityGroups({ ...runner, it }, () => context);
    options.extra?.(() => context);
  });
}

/**
 * The optional capabilities (compare-and-set, soft delete, pushed change events), each group on
 * only when the backend declares it. Run inside {@link defineBackendContract}.
 */
export function defineCapabilityGroups(runner: TestRunner, current: () => ContractContext): void {
  const { describe, it, expect } = runner;
  const ref = (key: string): SecretRef => ({ namespace: current().namespace, key });
  const read = async (target: SecretRef) => (await current().backend.get(target)).reveal();

  describe("compareAndSet", () => {
    it('ifVersion "" writes only a secret that does not exist', async () => {
      const { backend } = current();
      if (!backend.capabilities.compareAndSet) return;
      const target = ref(current().uniqueKey("CAS_NEW"));
      await backend.put?.(target, "cas-first", {}, { ifVersion: "" });
      const error = await backend.put?.(target, "cas-second", {}, { ifVersion: "" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConflictError);
      expect(printedForms(error)).not.toContain("cas-second");
      expect(await read(target)).toBe("cas-first");
      await backend.delete?.(target);
    });

    it("writes at the current version; a stale version is ConflictError and writes nothing", async () => {
      const { backend } = current();
      if (!backend.capabilities.compareAndSet || !backend.probeVersion) return;
      const target = ref(current().uniqueKey("CAS"));
      await backend.put?.(target, "cas-one");
      const first = await backend.probeVersion(target);
      await backend.put?.(target, "cas-two", {}, { ifVersion: first });
      const second = await backend.probeVersion(target);
      expect(second).not.toBe(first);
      await expect(backend.put?.(target, "cas-stale", {}, { ifVersion: first })).rejects.toBeInstanceOf(
        ConflictError,
      );
      expect(await read(target)).toBe("cas-two");
      expect(await backend.probeVersion(target)).toBe(second);
      await expect(
        backend.put?.(target, "cas-missing", {}, { ifVersion: "no-such-version" }),
      ).rejects.toBeInstanceOf(ConflictError);
      await backend.delete?.(target);
    });

    it("a version on a missing secret is ConflictError, and nothing is created", async () => {
      const { backend } = current();
      if (!backend.capabilities.compareAndSet) return;
      const target = ref(current().uniqueKey("CAS_NONE"));
      await expect(backend.put?.(target, "cas-ghost", {}, { ifVersion: "1" })).rejects.toBeInstanceOf(
        ConflictError,
      );
      await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
    });
  });

  describe("softDelete", () => {
    it("delete hides a secret, restore brings back the same value and version", async () => {
      const { backend } = current();
      if (!backend.capabilities.softDelete || !backend.restore) return;
      const target = ref(current().uniqueKey("SOFT"));
      await backend.put?.(target, "soft-value", { description: "kept", tags: { t: "1" } });
      const version = (await backend.get(target)).metadata.version;
      await backend.delete?.(target);
      await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      expect((await backend.list?.(current().namespace))?.map((l) => l.key)).not.toContain(target.key);
      await backend.restore(target);
      const back = await backend.get(target);
      expect(back.reveal()).toBe("soft-value");
      expect(back.metadata.version).toBe(version);
      expect(back.metadata.description).toBe("kept");
      await backend.delete?.(target);
    });

    it("restoring a live or missing secret is SecretNotFoundError", async () => {
      const { backend } = current();
      if (!backend.capabilities.softDelete || !backend.restore) return;
      const target = ref(current().uniqueKey("SOFT_LIVE"));
      await expect(backend.restore(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      await backend.put?.(target, "live");
      await expect(backend.restore(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      expect(await read(target)).toBe("live");
      await backend.delete?.(target);
    });

    it("purge removes a secret and its versions for good, deleted or not", async () => {
      const { backend } = current();
      if (!backend.capabilities.softDelete || !backend.purge || !backend.restore) return;
      const live = ref(current().uniqueKey("PURGE_LIVE"));
      const deleted = ref(current().uniqueKey("PURGE_DELETED"));
      await backend.put?.(live, "purge-one");
      const oldVersion = (await backend.get(live)).metadata.version;
      await backend.put?.(deleted, "purge-two");
      await backend.delete?.(deleted);
      await backend.purge(live);
      await backend.purge(deleted);
      for (const target of [live, deleted]) {
        await expect(backend.get(target)).rejects.toBeInstanceOf(SecretNotFoundError);
        await expect(backend.restore(target)).rejects.toBeInstanceOf(SecretNotFoundError);
        await expect(backend.purge(target)).rejects.toBeInstanceOf(SecretNotFoundError);
      }
      await backend.put?.(live, "purge-again");
      await expect(backend.get(live, { version: oldVersion })).rejects.toBeInstanceOf(SecretNotFoundError);
      await backend.purge(live);
    });
  });

  describe("subscribe", () => {
    /** Collects changes for `keys` and resolves each awaited one on arrival (no timer). */
    const collector = (keys: Set<string>) => {
      const seen: SecretChange[] = [];
      const waiters: Array<{ match: (c: SecretChange) => boolean; resolve: (c: SecretChange) => void }> = [];
      return {
        seen,
        listener: {
          change(change: SecretChange) {
            if (!keys.has(change.key)) return;
            seen.push(change);
            for (const w of [...waiters]) {
              if (w.match(change)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.resolve(change);
              }
            }
          },
          lost() {},
        },
        next(match: (c: SecretChange) => boolean): Promise<SecretChange> {
          const found = seen.find(match);
          if (found) return Promise.resolve(found);
          return new Promise((resolve) => waiters.push({ match, resolve }));
        },
      };
    };

    it("pushes each put and delete, with the version probeVersion gives and never the value", async () => {
      const { backend } = current();
      if (!backend.subscribe || !backend.capabilities.write) return;
      const target = ref(current().uniqueKey("PUSH"));
      const events = collector(new Set([target.key]));
      const subscription = await backend.subscribe(events.listener);
      try {
        await backend.put?.(target, "pushed-secret-value");
        const version = await backend.probeVersion?.(target);
        const put = await events.next((c) => !c.deleted);
        expect(put).toMatchObject({ namespace: target.namespace, key: target.key });
        if (version !== undefined) expect(put.version).toBe(version);
        await backend.delete?.(target);
        const removed = await events.next((c) => c.deleted === true);
        expect(removed.key).toBe(target.key);
        expect(printedForms(events.seen)).not.toContain("pushed-secret-value");
      } finally {
        await subscription.close();
      }
    });

    it("delivers changes in commit order, and a closed subscription gets no more", async () => {
      const { backend } = current();
      if (!backend.subscribe || !backend.capabilities.write) return;
      const target = ref(current().uniqueKey("ORDER"));
      const closedEvents = collector(new Set([target.key]));
      const openEvents = collector(new Set([target.key]));
      const closed = await backend.subscribe(closedEvents.listener);
      const open = await backend.subscribe(openEvents.listener);
      try {
        await closed.close();
        const versions: string[] = [];
        for (const value of ["order-1", "order-2", "order-3"]) {
          await backend.put?.(target, value);
          versions.push((await backend.probeVersion?.(target)) ?? value);
        }
        await openEvents.next((c) => c.version === versions[2]);
        if (backend.probeVersion) expect(openEvents.seen.map((c) => c.version)).toEqual(versions);
        expect(closedEvents.seen).toEqual([]);
      } finally {
        await open.close();
        await backend.delete?.(target);
      }
    });
  });
}
