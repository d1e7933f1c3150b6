// router.watch over a backend that pushes change events (`subscribe`, issue #21): one
// subscription per backend, opened before the baseline; a change is heard without any poll (the
// watches here poll every 2^31-1 ms, so a poll never runs during a test); lost -> polling ->
// subscribed again; closed with the last watch. Every wait is on an event, counted.
import { afterEach, describe, expect, it } from "vitest";
import type { ChangeListener, SecretChange } from "../src/backend-kit/index.js";
import {
  BackendUnavailableError,
  createMemoryBackend,
  createRouter,
  type RouteRule,
  type Router,
  type SecretBackend,
  type SecretRef,
  type VersionChange,
} from "../src/index.js";
import { affects } from "../src/watch/push.js";

/** setTimeout's largest delay: no poll happens while a test runs. */
const NEVER = 2_147_483_647;

/** A memory backend whose probes, subscriptions and closes are counted, and whose channel can be broken. */
function pushing(options: { name?: string; caseSensitiveKeys?: boolean; failSubscribes?: number } = {}) {
  const inner = createMemoryBackend({ name: options.name ?? "memory" });
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const state = {
    probes: [] as string[],
    subscribes: 0,
    open: 0,
    listeners: [] as ChangeListener[],
    failSubscribes: options.failSubscribes ?? 0,
    /** While set, `subscribe` waits for it before answering. */
    gate: undefined as Promise<void> | undefined,
  };
  const backend: SecretBackend = {
    ...inner,
    name: inner.name,
    capabilities: { ...inner.capabilities, caseSensitiveKeys: options.caseSensitiveKeys ?? true },
    async probeVersion(ref, opts) {
      state.probes.push(`${ref.tenant ?? ""}|${ref.namespace}/${ref.key}`);
      wake();
      return (inner.probeVersion as NonNullable<SecretBackend["probeVersion"]>)(ref, opts);
    },
    async subscribe(listener, opts) {
      state.subscribes++;
      wake();
      if (state.failSubscribes > 0) {
        state.failSubscribes--;
        throw new BackendUnavailableError("the change channel is down", { backend: inner.name });
      }
      const subscription = await (inner.subscribe as NonNullable<SecretBackend["subscribe"]>)(listener, opts);
      state.listeners.push(listener);
      state.open++;
      wake();
      if (state.gate) await state.gate;
      wake();
      let closed = false;
      return {
        async close() {
          if (closed) return;
          closed = true;
          state.open--;
          wake();
          await subscription.close();
        },
      };
    },
  };
  return {
    backend,
    state,
    /** Waits, on events, until `test` holds. */
    async until(test: () => boolean) {
      while (!test()) await new Promise<void>((r) => waiters.push(r));
    },
    /** Pushes a change as the backend would (for spellings the memory backend never sends). */
    push(change: SecretChange) {
      for (const listener of state.listeners) listener.change(change);
    },
  };
}

function collector() {
  const changes: VersionChange[] = [];
  const waiters: Array<() => void> = [];
  return {
    changes,
    listener(change: VersionChange) {
      changes.push(change);
      for (const w of waiters.splice(0)) w();
    },
    async count(n: number) {
      while (changes.length < n) await new Promise<void>((r) => waiters.push(r));
    },
  };
}

const routers: Router[] = [];
function routerOver(
  backends: Record<string, SecretBackend>,
  rules: RouteRule[] = [{ match: "", backend: "memory" }],
) {
  const router = createRouter({ backends, rules, retry: { attempts: 1 } });
  routers.push(router);
  return router;
}
afterEach(async () => {
  await Promise.all(routers.splice(0).map((r) => r.close()));
});

const ref = (key: string, namespace = "app", tenant?: string): SecretRef =>
  tenant === undefined ? { namespace, key } : { tenant, namespace, key };

describe("router.watch with pushed change events", () => {
  it("a change is heard without any poll: one baseline probe, then one re-check per change", async () => {
    const b = pushing();
    await b.backend.put?.(ref("API_TOKEN"), "rotation-one-ÿ\n'\"");
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("API_TOKEN"), seen.listener, { intervalMs: NEVER });
    await b.until(() => b.state.probes.length === 1); // the baseline
    expect(b.state.subscribes).toBe(1);
    await b.backend.put?.(ref("API_TOKEN"), "rotation-two");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ version: "2", previousVersion: "1", foundIn: "app" });
    expect(b.state.probes).toHaveLength(2);
    // The cached value was dropped before the listener ran: the next resolve reads the new one.
    expect((await router.resolve(ref("API_TOKEN"))).reveal()).toBe("rotation-two");
    await b.backend.put?.(ref("API_TOKEN"), "rotation-three");
    await seen.count(2);
    expect(seen.changes[1]).toMatchObject({ version: "3", previousVersion: "2" });
    expect(b.state.probes).toHaveLength(3);
  });

  it("the watches on one backend share one subscription; it closes with the last of them", async () => {
    const b = pushing();
    const router = routerOver({ memory: b.backend });
    const watches = ["A", "B", "C"].map((key) => router.watch(ref(key), () => {}, { intervalMs: NEVER }));
    const again = router.watch(ref("A"), () => {}, { intervalMs: NEVER });
    await b.until(() => b.state.open === 1 && b.state.probes.length === 3);
    expect(b.state.subscribes).toBe(1);
    again.close();
    for (const w of watches.slice(0, 2)) w.close();
    expect(b.state.open).toBe(1);
    watches[2]?.close();
    await b.until(() => b.state.open === 0);
    // A new watch subscribes anew.
    router.watch(ref("A"), () => {}, { intervalMs: NEVER });
    await b.until(() => b.state.open === 1);
    expect(b.state.subscribes).toBe(2);
  });

  it("router.close() closes the subscription", async () => {
    const b = pushing();
    const router = createRouter({
      backends: { memory: b.backend },
      rules: [{ match: "", backend: "memory" }],
    });
    router.watch(ref("A"), () => {}, { intervalMs: NEVER });
    await b.until(() => b.state.open === 1);
    await router.close();
    await b.until(() => b.state.open === 0);
  });

  it("inheritance: a change in the namespace that serves the ref, or in a nearer one, is heard; others are not probed", async () => {
    const b = pushing();
    await b.backend.put?.(ref("DB", "company"), "inherited-pässwörd");
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("DB", "company.team.etl"), seen.listener, { intervalMs: NEVER });
    // Three levels probed for the baseline: etl and team (missing), company (found).
    await b.until(() => b.state.probes.length === 3);
    await b.backend.put?.(ref("DB", "elsewhere"), "unrelated");
    await b.backend.put?.(ref("OTHER", "company"), "unrelated-key");
    await b.backend.put?.(ref("DB", "company"), "inherited-rotated");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ version: "2", previousVersion: "1", foundIn: "company" });
    expect(b.state.probes.slice(3)).toEqual(["|company/DB"]);
    await b.backend.put?.(ref("DB", "company.team"), "nearer");
    await seen.count(2);
    expect(seen.changes[1]).toMatchObject({ foundIn: "company.team", previousFoundIn: "company" });
    await b.backend.delete?.(ref("DB", "company.team"));
    await seen.count(3);
    expect(seen.changes[2]).toMatchObject({
      foundIn: "company",
      previousFoundIn: "company.team",
      version: "2",
    });
  });

  it("tenants are isolated: another tenant's change (or the untenanted one) is not probed for this watch", async () => {
    const b = pushing();
    await b.backend.put?.(ref("K", "app", "acme"), "acme-value");
    const router = routerOver({ memory: b.backend }, [
      { match: "", backend: "memory" },
      { match: "", tenant: "acme", backend: "memory" },
    ]);
    const seen = collector();
    router.watch(ref("K", "app", "acme"), seen.listener, { intervalMs: NEVER, inherit: false });
    await b.until(() => b.state.probes.length === 1);
    await b.backend.put?.(ref("K", "app", "globex"), "globex-value");
    await b.backend.put?.(ref("K", "app"), "untenanted-value");
    await b.backend.put?.(ref("K", "app", "acme"), "acme-rotated");
    await seen.count(1);
    expect(b.state.probes).toEqual(["acme|app/K", "acme|app/K"]);
    expect(seen.changes[0]).toMatchObject({ version: "2", previousVersion: "1" });
  });

  it("a backend whose keys ignore case: a change to another spelling re-checks the watch", async () => {
    const b = pushing({ caseSensitiveKeys: false });
    await b.backend.put?.(ref("API_TOKEN"), "v");
    const router = routerOver({ memory: b.backend });
    router.watch(ref("API_TOKEN"), () => {}, { intervalMs: NEVER });
    await b.until(() => b.state.probes.length === 1);
    b.push({ namespace: "app", key: "api_token" });
    await b.until(() => b.state.probes.length === 2);
  });

  it("which pushed changes affect a level: tenant, namespace, key (per caseSensitiveKeys); a global backend ignores namespaces", () => {
    const level = (r: SecretRef) => ({
      ref: r,
      id: "",
      foundIn: r.namespace,
      backend: "b",
      probe: async () => "1",
    });
    const at = level(ref("API_TOKEN", "company.team", "acme"));
    const change = { tenant: "acme", namespace: "company.team", key: "API_TOKEN" };
    expect(affects(at, change, true, false)).toBe(true);
    expect(affects(at, { ...change, key: "api_token" }, true, false)).toBe(false);
    expect(affects(at, { ...change, key: "api_token" }, false, false)).toBe(true);
    expect(affects(at, { ...change, tenant: "globex" }, true, false)).toBe(false);
    expect(affects(at, { ...change, tenant: undefined }, true, false)).toBe(false);
    expect(affects(at, { ...change, namespace: "company" }, true, false)).toBe(false);
    expect(affects(at, { ...change, namespace: "company.team.etl" }, true, false)).toBe(false);
    expect(affects(at, { ...change, namespace: "elsewhere" }, true, true)).toBe(true);
    // Hostile spellings are not equal: no normalisation of `..`, slashes, or unicode forms.
    for (const key of [
      "API_TOKEN ",
      "API%5FTOKEN",
      "API_TOKEN\n",
      "API_TOKEN\u200b",
      "\u0410PI_TOKEN",
      "../API_TOKEN",
    ])
      expect(affects(at, { ...change, key }, true, false)).toBe(false);
    expect(affects(at, { ...change, namespace: "company..team" }, true, false)).toBe(false);
    // A change described badly may affect anything: it re-checks.
    expect(affects(at, { ...change, key: 42 } as unknown as SecretChange, true, false)).toBe(true);
    const untenanted = level(ref("K"));
    expect(affects(untenanted, { namespace: "app", key: "K" }, true, false)).toBe(true);
    expect(affects(untenanted, { namespace: "app", key: "K", tenant: "acme" }, true, false)).toBe(false);
  });

  it("subscribes before it reads the baseline: a change made while subscribing is in the baseline, not lost", async () => {
    const b = pushing();
    await b.backend.put?.(ref("K"), "first");
    let open!: () => void;
    b.state.gate = new Promise<void>((r) => {
      open = r;
    });
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("K"), seen.listener, { intervalMs: NEVER });
    await b.until(() => b.state.open === 1); // listening, not yet answered
    expect(b.state.probes).toHaveLength(0); // no baseline before the channel listens
    await b.backend.put?.(ref("K"), "second"); // committed after listening began
    open();
    await b.until(() => b.state.probes.length === 1);
    await b.backend.put?.(ref("K"), "third");
    await seen.count(1);
    // The baseline was version 2: the change made while subscribing was not missed.
    expect(seen.changes).toEqual([expect.objectContaining({ previousVersion: "2", version: "3" })]);
  });

  it("lost: falls back to polling at once, subscribes again with backoff, and hears changes pushed again", async () => {
    const b = pushing();
    await b.backend.put?.(ref("K"), "first");
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("K"), seen.listener, { intervalMs: 1 });
    await b.until(() => b.state.open === 1 && b.state.probes.length === 1);
    b.state.failSubscribes = 1; // the first attempt to subscribe again fails too
    const lost = b.state.listeners[0] as ChangeListener;
    lost.lost(new BackendUnavailableError("connection lost", { backend: "memory" }));
    // Polling: probes go on without any change pushed.
    await b.until(() => b.state.probes.length >= 4);
    await b.until(() => b.state.subscribes === 3 && b.state.open === 1);
    // The old channel's events are ignored; the new one's are heard.
    await b.backend.put?.(ref("K"), "second");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ previousVersion: "1", version: "2" });
    expect(b.state.open).toBe(1);
  });

  it("a backend whose subscribe fails is polled, and subscribed again later", async () => {
    const b = pushing({ failSubscribes: 1 });
    await b.backend.put?.(ref("K"), "first");
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("K"), seen.listener, { intervalMs: 1 });
    await b.until(() => b.state.probes.length >= 2);
    await b.until(() => b.state.open === 1);
    await b.backend.put?.(ref("K"), "second");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ previousVersion: "1", version: "2" });
  });

  it("a failed probe while the channel is up is retried at the interval, then changes are pushed again", async () => {
    const b = pushing();
    await b.backend.put?.(ref("K"), "first");
    const inner = b.backend.probeVersion?.bind(b.backend) as NonNullable<SecretBackend["probeVersion"]>;
    let failures = 1;
    b.backend.probeVersion = async (r, o) => {
      const answer = await inner(r, o);
      if (failures-- > 0) throw new BackendUnavailableError("probe failed", { backend: "memory" });
      return answer;
    };
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    const errors: unknown[] = [];
    router.watch(ref("K"), seen.listener, { intervalMs: 1, onError: (e) => errors.push(e) });
    // The baseline failed (onError), and is probed again without any change pushed.
    await b.until(() => b.state.probes.length === 2);
    expect(errors).toHaveLength(1);
    await b.backend.put?.(ref("K"), "second");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ previousVersion: "1", version: "2" });
  });

  it("a subscribe that does not answer within timeoutMs: the watch polls, and the subscribe's signal aborts", async () => {
    const b = pushing();
    await b.backend.put?.(ref("K"), "first");
    const aborted: unknown[] = [];
    let wake = () => {};
    b.backend.subscribe = (_listener, options) =>
      new Promise((_resolve, reject) => {
        options?.signal?.addEventListener("abort", () => {
          aborted.push(options.signal?.reason);
          wake();
          reject(new BackendUnavailableError("gave up", { backend: "memory" }));
        });
      });
    const router = createRouter({
      backends: { memory: b.backend },
      rules: [{ match: "", backend: "memory" }],
      timeoutMs: 50,
    });
    routers.push(router);
    const seen = collector();
    router.watch(ref("K"), seen.listener, { intervalMs: 1 });
    await b.until(() => b.state.probes.length >= 2); // polled: no change was pushed
    while (aborted.length === 0) await new Promise<void>((r) => (wake = r));
    await b.backend.put?.(ref("K"), "second");
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ previousVersion: "1", version: "2" });
  });

  it("a deletion pushed is a change to not-found; the change events never hold a value", async () => {
    const b = pushing();
    const secret = "deleted-secret-value-\u{1F511}";
    await b.backend.put?.(ref("K"), secret);
    const heard: SecretChange[] = [];
    await b.backend.subscribe?.({ change: (c) => heard.push(c), lost() {} });
    const router = routerOver({ memory: b.backend });
    const seen = collector();
    router.watch(ref("K"), seen.listener, { intervalMs: NEVER });
    await b.until(() => b.state.probes.length === 1);
    await b.backend.delete?.(ref("K"));
    await seen.count(1);
    expect(seen.changes[0]).toMatchObject({ version: undefined, previousVersion: "1" });
    expect(JSON.stringify(heard)).not.toContain("deleted-secret");
    expect(heard.at(-1)).toMatchObject({ namespace: "app", key: "K", deleted: true, version: undefined });
  });
});
