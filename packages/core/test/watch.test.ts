// router.watch (issue #15): version changes, never values; one poll per target whatever the
// number of watchers; failures are never changes; the cache and the redactor after a change.
// No test asserts on time: each waits for probes or events to happen, counted.
import diagnostics from "node:diagnostics_channel";
import { printedForms } from "@keyway/backend-test-suite";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AuditEvent,
  BackendUnavailableError,
  CHANNELS,
  type ChangeEvent,
  ConfigurationError,
  createMemoryBackend,
  createRouter,
  InvalidReferenceError,
  type RouteRule,
  type Router,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  type SecretsError,
  SecretValue,
  type VersionChange,
} from "../src/internal.js";
import { fakeClock } from "./helpers.js";

/** A backend wrapper that counts probes (and gets) per key and can fail or stall them. */
function counted(inner: SecretBackend, options: { probe?: boolean } = {}) {
  const probes = new Map<string, number>();
  const gets = new Map<string, number>();
  let fault: (<T>(next: () => Promise<T>) => Promise<T>) | undefined;
  const waiters: Array<() => void> = [];
  const bump = (map: Map<string, number>, ref: SecretRef) => {
    map.set(ref.key, (map.get(ref.key) ?? 0) + 1);
    for (const wake of waiters.splice(0)) wake();
  };
  const backend: SecretBackend = {
    name: inner.name,
    capabilities: inner.capabilities,
    async get(ref, opts) {
      bump(gets, ref);
      const next = () => inner.get(ref, opts);
      return fault ? fault(next) : next();
    },
    put: inner.put?.bind(inner),
    delete: inner.delete?.bind(inner),
  };
  if (options.probe !== false && inner.probeVersion) {
    const probe = inner.probeVersion.bind(inner);
    backend.probeVersion = async (ref, opts) => {
      bump(probes, ref);
      const next = () => probe(ref, opts);
      return fault ? fault(next) : next();
    };
  }
  const total = (map: Map<string, number>) => [...map.values()].reduce((a, b) => a + b, 0);
  return {
    backend,
    probes,
    gets,
    total: () => total(probes) + total(gets),
    /** Every probe and get fails with `make()` until `heal()`. */
    fail(make: () => Error) {
      fault = async () => {
        throw make();
      };
    },
    /** Every probe and get waits until `release()`, then answers. */
    stall() {
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      fault = async (next) => {
        await gate;
        return next();
      };
      return () => {
        fault = undefined;
        release();
      };
    },
    heal() {
      fault = undefined;
    },
    /** Resolves once `n` more probes or gets have started. */
    async more(n: number) {
      const target = this.total() + n;
      while (this.total() < target) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

/** Collects the changes of one watch, with a way to wait for the next ones. */
function collector() {
  const changes: VersionChange[] = [];
  const errors: SecretsError[] = [];
  const waiters: Array<() => void> = [];
  const listener = (change: VersionChange) => {
    changes.push(change);
    for (const wake of waiters.splice(0)) wake();
  };
  return {
    changes,
    errors,
    listener,
    onError: (error: SecretsError) => {
      errors.push(error);
      for (const wake of waiters.splice(0)) wake();
    },
    async until(test: () => boolean) {
      while (!test()) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

const ref = (key: string, namespace = "app"): SecretRef => ({ namespace, key });
const routers: Router[] = [];
function routerOver(backends: Record<string, SecretBackend>, rules: RouteRule[], extra = {}) {
  const router = createRouter({ backends, rules, retry: { attempts: 1 }, ...extra });
  routers.push(router);
  return router;
}
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

describe("router.watch", () => {
  it("a rotation is exactly one change, with versions and never the value", async () => {
    const memory = createMemoryBackend({ initial: { "app/TOKEN": "old-value-1" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const seen = collector();
    router.watch(ref("TOKEN"), seen.listener, { intervalMs: 2 });
    await probe.more(2); // the baseline, then one more poll: no change yet
    expect(seen.changes).toEqual([]);
    await memory.put?.(ref("TOKEN"), "new-value-2");
    await seen.until(() => seen.changes.length === 1);
    await probe.more(3); // more polls of the same version: no second change
    expect(seen.changes).toHaveLength(1);
    const [change] = seen.changes;
    expect(change).toMatchObject({
      ref: { namespace: "app", key: "TOKEN" },
      version: "2",
      previousVersion: "1",
      foundIn: "app",
      previousFoundIn: "app",
      backend: "m",
    });
    expect(printedForms(change)).not.toMatch(/old-value-1|new-value-2/);
    // Probes only: the value was never fetched to watch it.
    expect(probe.gets.size).toBe(0);
  });

  it("1,000 watchers of 10 keys share 10 polls: 10 probes a round, whatever the number of watchers", async () => {
    const initial = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`app/K${i}`, `v${i}`]));
    const probe = counted(createMemoryBackend({ initial }));
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const release = probe.stall();
    for (let w = 0; w < 1000; w++) router.watch(ref(`K${w % 10}`), () => {}, { intervalMs: 1 });
    await probe.more(10);
    // Let every timer that could fire fire: each poll waits on its stalled probe, none starts another.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    expect(probe.total()).toBe(10);
    expect([...probe.probes.values()]).toEqual(Array(10).fill(1));
    release();
    await probe.more(10 * 3);
    // Each key's poll is sequential: its counts stay within one round of each other.
    const counts = [...probe.probes.values()];
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it("an outage is never a change: errors go to onError, and recovery with the same version is silent", async () => {
    const memory = createMemoryBackend({ initial: { "app/DB": "db-1" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }], {
      breaker: { threshold: 0 },
    });
    const seen = collector();
    router.watch(ref("DB"), seen.listener, { intervalMs: 1, onError: seen.onError });
    await probe.more(1);
    probe.fail(() => new Error("ECONNREFUSED (raw transport failure)"));
    await seen.until(() => seen.errors.length >= 3);
    expect(seen.changes).toEqual([]);
    for (const error of seen.errors) expect(error).toBeInstanceOf(BackendUnavailableError);
    probe.heal();
    await probe.more(3);
    expect(seen.changes).toEqual([]);
    // Rotated during an outage: exactly one change once the backend answers again.
    probe.fail(() => new BackendUnavailableError("down", { backend: "m" }));
    await memory.put?.(ref("DB"), "db-2");
    const errors = seen.errors.length;
    await seen.until(() => seen.errors.length >= errors + 2);
    expect(seen.changes).toEqual([]);
    probe.heal();
    await seen.until(() => seen.changes.length === 1);
    await probe.more(3);
    expect(seen.changes.map((c) => [c.previousVersion, c.version])).toEqual([["1", "2"]]);
  });

  it("probes go through the breaker: while it is open the backend is not asked, and it recovers", async () => {
    const clock = fakeClock();
    const memory = createMemoryBackend({ initial: { "app/DB": "db-1" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }], {
      breaker: { threshold: 2, cooldownMs: 1000 },
      cache: { clock },
    });
    const seen = collector();
    router.watch(ref("DB"), seen.listener, { intervalMs: 1, onError: seen.onError });
    await probe.more(1);
    probe.fail(() => new BackendUnavailableError("down", { backend: "m" }));
    await seen.until(() => seen.errors.length >= 6);
    // Two failures opened it; the later probes failed fast, without reaching the backend.
    expect(probe.probes.get("DB")).toBe(3);
    expect(seen.errors.at(-1)?.message).toMatch(/marked down/);
    probe.heal();
    await memory.put?.(ref("DB"), "db-2");
    clock.advance(1000); // the cool-down is over: the next probe is let through
    await seen.until(() => seen.changes.length === 1);
    expect(seen.changes[0]?.version).toBe("2");
  });

  it("a probe that hangs ends at timeoutMs as an error, not a change", async () => {
    const memory = createMemoryBackend({ initial: { "app/SLOW": "s" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }], { timeoutMs: 20 });
    const seen = collector();
    const release = probe.stall();
    router.watch(ref("SLOW"), seen.listener, { intervalMs: 1, onError: seen.onError });
    await seen.until(() => seen.errors.length >= 1);
    expect(seen.errors[0]).toBeInstanceOf(BackendUnavailableError);
    expect(seen.errors[0]?.message).toMatch(/Timed out/);
    release();
    await probe.more(2);
    expect(seen.changes).toEqual([]);
  });

  it("no stale value after a change event: the cached entry is dropped before listeners run", async () => {
    const memory = createMemoryBackend({ initial: { "app/API": "api-old" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }], {
      cache: { ttlMs: 3_600_000 },
    });
    expect((await router.resolve(ref("API"))).reveal()).toBe("api-old");
    const read: string[] = [];
    const done = new Promise<void>((resolve) => {
      router.watch(
        ref("API"),
        async () => {
          read.push((await router.resolve(ref("API"))).reveal());
          resolve();
        },
        { intervalMs: 1 },
      );
    });
    await probe.more(1);
    await memory.put?.(ref("API"), "api-new");
    // Without the watch, the cache (an hour's TTL) would keep serving the old value.
    expect((await router.resolve(ref("API"))).reveal()).toBe("api-old");
    await done;
    expect(read).toEqual(["api-new"]);
    // The redactor keeps masking both: the old value may still be in logs being written.
    const masked = router.redactor.redact("was api-old, is api-new");
    expect(masked).not.toContain("api-old");
    expect(masked).not.toContain("api-new");
  });

  it("one keyway:change event and one audit event per change, whatever the number of watchers", async () => {
    const memory = createMemoryBackend({ initial: { "app/K": "k1" } });
    const probe = counted(memory);
    const audit: AuditEvent[] = [];
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }], {
      audit: (event: AuditEvent) => {
        audit.push(event);
      },
    });
    const published: ChangeEvent[] = [];
    const onChange = (message: unknown) => published.push(message as ChangeEvent);
    diagnostics.subscribe(CHANNELS.change, onChange);
    try {
      const seen = collector();
      for (let i = 0; i < 50; i++) router.watch(ref("K"), seen.listener, { intervalMs: 1 });
      await probe.more(1);
      await memory.put?.(ref("K"), "k2");
      await seen.until(() => seen.changes.length === 50);
      await probe.more(2);
      expect(published).toEqual([
        {
          tenant: undefined,
          namespace: "app",
          key: "K",
          version: "2",
          previousVersion: "1",
          foundIn: "app",
          previousFoundIn: "app",
          backend: "m",
          previousBackend: "m",
        },
      ]);
      expect(audit).toEqual([
        expect.objectContaining({
          kind: "change",
          namespace: "app",
          key: "K",
          backend: "m",
          foundIn: "app",
          outcome: "ok",
          version: "2",
          previousVersion: "1",
        }),
      ]);
      expect(printedForms([published, audit])).not.toMatch(/k1|k2/);
    } finally {
      diagnostics.unsubscribe(CHANNELS.change, onChange);
    }
  });

  describe("inheritance: the level that serves the ref now", () => {
    const setup = () => {
      const company = createMemoryBackend({ name: "company", initial: { "company/KEY": "from-company" } });
      const team = createMemoryBackend({ name: "team" });
      const cp = counted(company);
      const tp = counted(team);
      const router = routerOver({ company: cp.backend, team: tp.backend }, [
        { match: "company", backend: "company" },
        { match: "company.team", backend: "team" },
      ]);
      return { company, team, cp, tp, router, target: ref("KEY", "company.team.a") };
    };

    it("a nearer value appearing, and going away again, are changes; the serving level is in foundIn", async () => {
      const { team, cp, tp, router, target } = setup();
      const seen = collector();
      router.watch(target, seen.listener, { intervalMs: 1 });
      await cp.more(1);
      await team.put?.({ namespace: "company.team.a", key: "KEY" }, "from-team-a");
      await seen.until(() => seen.changes.length === 1);
      expect(seen.changes[0]).toMatchObject({
        foundIn: "company.team.a",
        previousFoundIn: "company",
        backend: "team",
        version: "1",
        previousVersion: "1",
      });
      expect((await router.resolve(target)).reveal()).toBe("from-team-a");
      // While team.a serves it, company is not polled: its changes cannot change the value.
      const companyProbes = cp.probes.get("KEY");
      await tp.more(3);
      expect(cp.probes.get("KEY")).toBe(companyProbes);
      await team.delete?.({ namespace: "company.team.a", key: "KEY" });
      await seen.until(() => seen.changes.length === 2);
      expect(seen.changes[1]).toMatchObject({ foundIn: "company", previousFoundIn: "company.team.a" });
      expect((await router.resolve(target)).reveal()).toBe("from-company");
    });

    it("two refs inheriting the same level share its poll", async () => {
      const { company, cp, tp, router } = setup();
      const release = cp.stall();
      const a = collector();
      const b = collector();
      router.watch(ref("KEY", "company.team.a"), a.listener, { intervalMs: 1 });
      router.watch(ref("KEY", "company.team.b"), b.listener, { intervalMs: 1 });
      await cp.more(1);
      for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
      // Each namespace's own level is probed (one each); their shared parent once.
      expect(cp.probes.get("KEY")).toBe(1);
      expect(tp.probes.get("KEY")).toBeGreaterThanOrEqual(2);
      release();
      await cp.more(2);
      await company.put?.(ref("KEY", "company"), "company-2");
      await a.until(() => a.changes.length === 1);
      await b.until(() => b.changes.length === 1);
      expect([a.changes[0]?.version, b.changes[0]?.version]).toEqual(["2", "2"]);
    });

    it("with inherit: false only the ref's own level is probed", async () => {
      const { cp, tp, router, target } = setup();
      const seen = collector();
      router.watch(target, seen.listener, { intervalMs: 1, inherit: false });
      await tp.more(3);
      expect(cp.probes.get("KEY")).toBeUndefined();
      expect(seen.changes).toEqual([]);
    });
  });

  it("a deletion and a creation are changes (version undefined before or after)", async () => {
    const memory = createMemoryBackend({ initial: { "app/GONE": "g" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const seen = collector();
    router.watch(ref("GONE"), seen.listener, { intervalMs: 1 });
    await probe.more(1);
    await memory.delete?.(ref("GONE"));
    await seen.until(() => seen.changes.length === 1);
    expect(seen.changes[0]).toMatchObject({ version: undefined, previousVersion: "1", foundIn: undefined });
    await memory.put?.(ref("GONE"), "back");
    await seen.until(() => seen.changes.length === 2);
    // The memory backend never reuses a version number, even after a delete.
    expect(seen.changes[1]).toMatchObject({ version: "2", previousVersion: undefined, foundIn: "app" });
  });

  describe("without probeVersion: get and compare", () => {
    it("compares metadata.version when the value has one", async () => {
      const memory = createMemoryBackend({ initial: { "app/V": "v1" } });
      const probe = counted(memory, { probe: false });
      const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
      const seen = collector();
      router.watch(ref("V"), seen.listener, { intervalMs: 1 });
      await probe.more(2);
      await memory.put?.(ref("V"), "v2");
      await seen.until(() => seen.changes.length === 1);
      expect(seen.changes[0]).toMatchObject({ version: "2", previousVersion: "1" });
      expect(probe.probes.size).toBe(0);
    });

    it("compares a digest held in memory when it has none; listeners see a count, never a digest", async () => {
      let value = "digest-secret-1";
      const plain: SecretBackend = {
        name: "plain",
        capabilities: {
          write: false,
          list: false,
          batch: false,
          versions: false,
          caseSensitiveKeys: true,
          maxValueBytes: 100,
        },
        async get(r) {
          if (r.key !== "P") throw new SecretNotFoundError(r.key, { backend: "plain" });
          return SecretValue.fromText(value);
        },
      };
      const probe = counted(plain);
      const router = routerOver({ p: probe.backend }, [{ match: "", backend: "p" }]);
      const seen = collector();
      router.watch(ref("P"), seen.listener, { intervalMs: 1 });
      await probe.more(3);
      expect(seen.changes).toEqual([]);
      value = "digest-secret-2";
      await seen.until(() => seen.changes.length === 1);
      await probe.more(2);
      expect(seen.changes.map((c) => [c.previousVersion, c.version])).toEqual([["1", "2"]]);
      // The value read to compare is registered: the redactor masks it, as any value read.
      expect(router.redactor.redact("digest-secret-2")).not.toContain("digest-secret-2");
    });
  });

  describe("the async iterator form", () => {
    it("yields changes and ends on return() (for await … break)", async () => {
      const memory = createMemoryBackend({ initial: { "app/IT": "1" } });
      const probe = counted(memory);
      const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
      const changes = router.watch(ref("IT"), { intervalMs: 1 });
      await probe.more(1);
      await memory.put?.(ref("IT"), "2");
      for await (const change of changes) {
        expect(change.version).toBe("2");
        break;
      }
      expect(changes.closed).toBe(true);
      expect(await changes.next()).toEqual({ value: undefined, done: true });
    });

    it("folds changes not yet read into one, and ends when its signal aborts", async () => {
      const memory = createMemoryBackend({ initial: { "app/IT": "1" } });
      const probe = counted(memory);
      const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
      const controller = new AbortController();
      const watcher = collector();
      router.watch(ref("IT"), watcher.listener, { intervalMs: 1 });
      const changes = router.watch(ref("IT"), { intervalMs: 1, signal: controller.signal });
      await probe.more(1);
      await memory.put?.(ref("IT"), "2");
      await watcher.until(() => watcher.changes.length === 1);
      await memory.put?.(ref("IT"), "3");
      await watcher.until(() => watcher.changes.length === 2);
      expect((await changes.next()).value).toMatchObject({ previousVersion: "1", version: "3" });
      const pending = changes.next();
      controller.abort();
      expect(await pending).toEqual({ value: undefined, done: true });
    });

    it("ends when the router closes", async () => {
      const router = routerOver({ m: createMemoryBackend() }, [{ match: "", backend: "m" }]);
      const changes = router.watch(ref("NONE"), { intervalMs: 1 });
      const pending = changes.next();
      await router.close();
      expect(await pending).toEqual({ value: undefined, done: true });
    });
  });

  it("a shared poll probes at the shortest interval asked, from the wait under way", async () => {
    const probe = counted(createMemoryBackend({ initial: { "app/S": "s" } }));
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const answered = new Promise<void>((resolve) => {
      const onBackend = () => {
        diagnostics.unsubscribe(CHANNELS.backend, onBackend);
        resolve();
      };
      diagnostics.subscribe(CHANNELS.backend, onBackend);
    });
    const slow = router.watch(ref("S"), () => {}, { intervalMs: 3_600_000 });
    await answered; // the first probe answered...
    await new Promise((r) => setImmediate(r)); // ...and the hour's wait began
    expect(probe.probes.get("S")).toBe(1);
    // Without it, the next probe would come in an hour; with a 1 ms watcher it comes at once.
    const fast = router.watch(ref("S"), () => {}, { intervalMs: 1 });
    await probe.more(3);
    fast.close();
    slow.close();
    expect(probe.probes.get("S")).toBeGreaterThanOrEqual(4);
  });

  it("a signal aborted already: the watch is closed at once and nothing is probed", async () => {
    const probe = counted(createMemoryBackend({ initial: { "app/A": "a-value" } }));
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const signal = AbortSignal.abort();
    expect(router.watch(ref("A"), () => {}, { intervalMs: 1, signal }).closed).toBe(true);
    const changes = router.watch(ref("A"), { intervalMs: 1, signal });
    expect(await changes.next()).toEqual({ value: undefined, done: true });
    // A live watch of the same ref is its own: its first probe is the only one.
    const live = router.watch(ref("A"), () => {}, { intervalMs: 3_600_000 });
    await probe.more(1);
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 1));
    expect(probe.total()).toBe(1);
    live.close();
  });

  it("closing the last watch stops the poll", async () => {
    const probe = counted(createMemoryBackend({ initial: { "app/S": "s" } }));
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const watches = [1, 2, 3].map(() => router.watch(ref("S"), () => {}, { intervalMs: 1 }));
    await probe.more(3);
    for (const w of watches) w.close();
    const after = probe.total();
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 1));
    // At most the probe that was already in flight when the last watch closed.
    expect(probe.total() - after).toBeLessThanOrEqual(1);
    expect(watches.every((w) => w.closed)).toBe(true);
  });

  it("a listener that throws is reported once as a warning (without its message); the others still hear", async () => {
    const memory = createMemoryBackend({ initial: { "app/L": "l1" } });
    const probe = counted(memory);
    const router = routerOver({ m: probe.backend }, [{ match: "", backend: "m" }]);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      router.watch(
        ref("L"),
        () => {
          throw new Error("listener broke holding l2");
        },
        { intervalMs: 1 },
      );
      const seen = collector();
      router.watch(ref("L"), seen.listener, { intervalMs: 1 });
      await probe.more(1);
      await memory.put?.(ref("L"), "l2");
      await seen.until(() => seen.changes.length === 1);
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /watch listener/.test(w))).toHaveLength(1);
      expect(warnings.join("\n")).not.toContain("l2");
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("refuses bad input with typed errors, before any backend call", async () => {
    const probe = counted(createMemoryBackend());
    const router = routerOver({ m: probe.backend }, [{ match: "company", backend: "m" }]);
    const listener = () => {};
    expect(() => router.watch({ namespace: "app", key: "../x" }, listener)).toThrow(InvalidReferenceError);
    expect(() => router.watch(ref("K", "other"), listener)).toThrow(ConfigurationError);
    for (const intervalMs of [0, -1, 1.5, Number.NaN, 2 ** 31, "10" as unknown as number])
      expect(() => router.watch(ref("K", "company"), listener, { intervalMs })).toThrow(ConfigurationError);
    expect(() => router.watch(ref("K", "company"), "nope" as unknown as () => void)).toThrow(
      ConfigurationError,
    );
    expect(() =>
      router.watch(ref("K", "company"), listener, { onError: 1 as unknown as () => void }),
    ).toThrow(ConfigurationError);
    await router.close();
    expect(() => router.watch(ref("K", "company"), listener)).toThrow(/closed/);
    expect(probe.total()).toBe(0);
  });
});
