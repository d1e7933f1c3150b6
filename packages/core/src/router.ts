/**
 * The namespace-aware router: which backend serves which namespace (longest prefix on whole
 * segments, per tenant), inheritance up the namespace tree, allow lists, read-only rules and
 * replicas. It is a `SecretResolver`, plus templates, listing and writes.
 */
import type { PrepareOptions, PutMetadata, SecretBackend, SecretListing } from "./backend.js";
import type { BreakerOptions } from "./cache/call/breaker.js";
import { DEADLINE_AT, type DeadlineOptions } from "./cache/call/deadline.js";
import type { RetryOptions } from "./cache/call/retry.js";
import { type CacheOptions, createResolver } from "./cache/index.js";
import {
  AccessDeniedError,
  AllBackendsFailedError,
  BackendUnavailableError,
  ConfigurationError,
  InvalidSecretValueError,
  isSecretsError,
  ReadOnlyError,
  type SearchedLevel,
  SecretNotFoundError,
  type SecretsError,
} from "./errors.js";
import { PendingAudits } from "./pending-audits.js";
import { type PeekingResolver, type Plan, PlanMemo, type PlannedLevel } from "./plans.js";
import { createRedactor } from "./redact/index.js";
import type { Redactor } from "./redact/types.js";
import {
  assertNamespace,
  assertSubkey,
  assertTenant,
  isWithinNamespace,
  namespaceChain,
  refId,
  type SecretRef,
  validateRef,
} from "./ref.js";
import {
  type RenderDependencies,
  type RenderOptions,
  renderTemplate,
  renderTemplates,
  type TemplateReference,
  templateReferences,
} from "./render.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "./resolver.js";
import { extractSubkey } from "./subkey.js";
import { channels, type Outcome, publish } from "./telemetry.js";
import { SecretValue } from "./value.js";
import {
  type Watch,
  Watches,
  type WatchIterator,
  type WatchLevel,
  type WatchListener,
  type WatchOptions,
} from "./watch/index.js";

/** One `namespaces:` entry of `keyway.yaml`. */
export interface RouteRule {
  /** This namespace and all below it (`""`: the root, i.e. everything not matched otherwise). */
  readonly match: string;
  /** Serves only refs of this tenant; without it, only refs without a tenant. */
  readonly tenant?: string | undefined;
  /** The name of the backend that serves it. */
  readonly backend: string;
  /** Refuse writes. @default false */
  readonly readOnly?: boolean | undefined;
  /** Other namespaces (and those below them) that may read here with `namespace='…'`. */
  readonly allowedNamespaces?: readonly string[] | undefined;
  /** Replicas, asked in order only when the primary is unavailable. */
  readonly fallback?: readonly string[] | undefined;
  /** Lets a tenant rule use a backend that ignores tenants (env). @default false */
  readonly shared?: boolean | undefined;
}

export interface RouterOptions {
  /** Backends by name. The router closes them on `close()`. */
  backends: Readonly<Record<string, SecretBackend>>;
  rules: readonly RouteRule[];
  cache?: CacheOptions | undefined;
  timeoutMs?: number | undefined;
  retry?: RetryOptions | undefined;
  /** Shared by every backend's resolver. @default a new redactor */
  redactor?: Redactor | undefined;
  /** Values for `{{ envs.name }}` (lower-case names). @default {} */
  envs?: Readonly<Record<string, string>> | undefined;
  /** Per-backend circuit breaker settings. */
  breaker?: BreakerOptions | undefined;
  /** Receives one event per access, never a value. A failing sink never breaks a resolve. */
  audit?: AuditSink | undefined;
}

/** One access, for the audit trail. Never holds a value. */
export interface AuditEvent {
  /** ISO 8601 time of the access. */
  readonly time: string;
  readonly tenant: string | undefined;
  readonly namespace: string;
  readonly key: string;
  /** The backend that answered or failed, if one was asked. */
  readonly backend: string | undefined;
  /** The namespace the value came from, when found (inheritance). */
  readonly foundIn: string | undefined;
  readonly executionId: string | undefined;
  readonly outcome: Outcome;
  /** `change`: a watched secret's version changed (`router.watch`); absent for an access. */
  readonly kind?: "change" | undefined;
  /** With `kind: "change"`: the version now (`undefined`: not found any more). */
  readonly version?: string | undefined;
  /** With `kind: "change"`: the version before (`undefined`: not found before). */
  readonly previousVersion?: string | undefined;
}

/** Takes audit events; may be async. Its failures are counted in `stats().auditFailures`. */
export type AuditSink = (event: AuditEvent) => void | Promise<void>;

/** Where a ref would be (or was) served from; what `keyway check` prints. Never the value. */
export interface Explanation {
  readonly status: "found" | "missing" | "denied" | "unavailable" | "disabled" | "invalid";
  /** The namespace level that holds it (found) or that was asked first. */
  readonly namespace: string;
  readonly backend: string;
  readonly error?: SecretsError;
}

export interface ListedKey extends SecretListing {
  /** The namespace the key comes from (its own, or an ancestor with `inherited`). */
  readonly namespace: string;
  readonly backend: string;
}

/** A `SecretResolver` over many backends, with templates, listing and writes. */
export interface Router extends SecretResolver {
  render(text: string, options: RenderOptions): Promise<string>;
  /** Renders many texts as one template: references resolved at once, failures reported together. */
  renderMany(texts: readonly string[], options: RenderOptions): Promise<string[]>;
  references(text: string): TemplateReference[];
  explain(ref: SecretRef, options?: ResolveOptions): Promise<Explanation>;
  list(
    namespace: string,
    options?: { tenant?: string | undefined; inherited?: boolean },
  ): Promise<ListedKey[]>;
  put(ref: SecretRef, value: string | Uint8Array, metadata?: PutMetadata): Promise<void>;
  delete(ref: SecretRef): Promise<void>;
  /**
   * Throws what a `put` or `delete` in `namespace` would throw before reaching its backend: no rule
   * (ConfigurationError), a read-only rule or a backend without writes (ReadOnlyError). Lets a bulk
   * write (a dry run, or before the first of many writes) fail once, up front.
   */
  assertWritable(namespace: string, tenant?: string): void;
  /** The rule that serves a namespace for a tenant, if any. */
  ruleFor(namespace: string, tenant?: string): RouteRule | undefined;
  /**
   * Calls `listener` with `{ ref, version, previousVersion }` (never a value) each time the version
   * of what a resolve of `ref` returns changes; by then its cached value is dropped. See watch.ts.
   * @throws InvalidReferenceError, ConfigurationError (bad options, no rule) at once
   */
  watch(ref: SecretRef, listener: WatchListener, options?: WatchOptions): Watch;
  /** The same as an async iterator: `for await (const change of router.watch(ref)) …`. */
  watch(ref: SecretRef, options?: WatchOptions): WatchIterator;
}

/**
 * Creates a router.
 * @example
 * const router = createRouter({
 *   backends: { env: createEnvBackend(), team: createMemoryBackend() },
 *   rules: [{ match: "", backend: "env" }, { match: "company.team", backend: "team" }],
 * });
 * await router.render("token: {{ secret('API_TOKEN') }}", { namespace: "company.team.a" });
 */
export function createRouter(options: RouterOptions): Router {
  return new NamespaceRouter(options);
}

interface Found {
  readonly value: SecretValue;
  readonly namespace: string;
  readonly backend: string;
}

const NO_OPTIONS: ResolveOptions = Object.freeze({});
/** Read on every resolve: one module binding instead of a property of `channels`. */
const resolveChannel = channels.resolve;

class NamespaceRouter implements Router {
  readonly redactor: Redactor;
  readonly #backends: Readonly<Record<string, SecretBackend>>;
  readonly #resolvers = new Map<string, SecretResolver>();
  readonly #rules: readonly RouteRule[];
  readonly #ruleMemo = new Map<string, RouteRule | null>();
  readonly #plans = new PlanMemo<PlannedLevel>((ref) => this.#levelsFor(ref));
  readonly #envs: Readonly<Record<string, string>>;
  /** What `render` and `renderMany` resolve and mask with. */
  readonly #renderDependencies: RenderDependencies;
  readonly #audit: AuditSink | undefined;
  #auditFailures = 0;
  /** Audit writes in flight: close() waits for them. */
  readonly #pendingAudits = new PendingAudits();
  readonly #timeoutMs: number;
  readonly #watches = new Watches({
    levels: (ref) => {
      const levels = this.#plans.planFor(ref)?.levels;
      if (!levels?.length) throw this.#noRule(ref);
      return levels.map(watchLevel);
    },
    invalidate: (ref) => this.invalidate(ref),
    audit: (event) => this.#sendAudit(event),
    backend: (name) => this.#backends[name],
    timeoutMs: () => this.#timeoutMs,
  });

  constructor(options: RouterOptions) {
    this.#timeoutMs = options.timeoutMs ?? 5000;
    this.redactor = options.redactor ?? createRedactor();
    this.#backends = options.backends;
    this.#envs = options.envs ?? {};
    this.#renderDependencies = {
      resolve: (ref, caller, signal, executionId) => this.resolve(ref, { caller, signal, executionId }),
      redactor: this.redactor,
      envs: this.#envs,
    };
    this.#audit = options.audit;
    this.#rules = validateRules(options.rules, options.backends);
    for (const [name, backend] of Object.entries(options.backends)) {
      this.#resolvers.set(
        name,
        createResolver({
          backend,
          cache: options.cache,
          timeoutMs: options.timeoutMs,
          retry: options.retry,
          breaker: options.breaker,
          redactor: this.redactor,
        }),
      );
    }
  }

  /**
   * Not `async`, for the cached case (the hot path of every executor): the ref's plan comes from a
   * memo (no validation, namespace chain, rule lookups or ref copies per call), each level's cache
   * is read synchronously, and a hit returns its entry's settled promise, instead of four nested
   * async functions, each allocating a promise and a microtask hop, plus an error object built,
   * redacted and thrown for every level an inherited key climbs past. The first level without a
   * live entry continues in {@link #resolveSlow}, which starts at that level so no level is counted
   * twice. Behaviour (values, errors, stats, telemetry, audit) is the slow path's.
   *
   * The common call (no options, nobody listening, no audit, found at the first level) is kept in
   * this small function so V8 inlines it into the caller; everything else is {@link #resolveFrom}.
   */
  resolve(input: SecretRef, options?: ResolveOptions): Promise<SecretValue> {
    if (options === undefined && this.#audit === undefined && !resolveChannel.hasSubscribers) {
      const plan = this.#plans.known(input);
      const level = plan?.first;
      if (level !== undefined) {
        const hit = level.resolver.peek(level.ref, level.id, level);
        if (hit) {
          hit.settled ??= Promise.resolve(hit.value);
          return hit.settled;
        }
        return this.#notAtFirstLevel(input, plan as Plan, hit);
      }
    }
    return this.#resolveFrom(input, options ?? NO_OPTIONS, undefined, 0);
  }

  /** The rest of a plain resolve whose first level held no live value. */
  #notAtFirstLevel(input: SecretRef, plan: Plan, first: null | undefined): Promise<SecretValue> {
    // A cached not-found (counted by peek): climb on from the next level. Not cached: the backend.
    if (first === null) return this.#resolveFrom(input, NO_OPTIONS, plan, 1);
    return this.#resolveSlow(input, NO_OPTIONS, Number.NaN, plan, 0, plan.levels.length);
  }

  /** The general resolve: the plan's levels from `from` on, synchronously while their entries are live. */
  #resolveFrom(
    input: SecretRef,
    options: ResolveOptions,
    known: Plan | undefined,
    from: number,
  ): Promise<SecretValue> {
    // The start time serves only the telemetry event's duration: read only while someone listens,
    // since a clock read can cost as much as the rest of a cached resolve (see cache.ts).
    const started = channels.resolve.hasSubscribers ? performance.now() : Number.NaN;
    // Read the ref once: a getter must not pass the caller check with one namespace and plan another.
    input = snapshot(input);
    // The sub-key is part of the reference: checked with it, before any memo or cache is read.
    if (options.subkey !== undefined && typeof options.subkey !== "string") {
      return this.#resolveSlow(input, options, started, undefined, 0, 0);
    }
    const plan =
      known ??
      (options.caller === undefined || options.caller === (input as Partial<SecretRef> | null)?.namespace
        ? this.#plans.planFor(input)
        : undefined);
    if (plan === undefined) return this.#resolveSlow(input, options, started, undefined, 0, 0);
    const levels = plan.levels;
    // `inherit: false`: the first planned level only, which is the ref's own namespace (a rule
    // serving an ancestor serves the namespace too, so the first level with a rule is the ref's).
    const end = options.inherit === false ? Math.min(levels.length, 1) : levels.length;
    let i = from;
    for (; i < end; i++) {
      const level = levels[i] as PlannedLevel;
      const hit = level.resolver.peek(level.ref, level.id, level);
      if (hit === undefined) break; // not cached: ask the backend from this level on
      if (hit === null) continue; // a cached not-found: climb
      // Nothing to record (no listener, no audit) and no sub-key: the entry's settled promise,
      // made once and shared by every hit (see `settled` in cache.ts), so a hit allocates nothing.
      if (options.subkey === undefined && this.#audit === undefined && Number.isNaN(started)) {
        hit.settled ??= Promise.resolve(hit.value);
        return hit.settled;
      }
      const found: Found = {
        value: hit.value,
        namespace: level.foundIn,
        backend: level.rule.backend,
      };
      try {
        return Promise.resolve(this.#finish(plan.ref, input, options, started, found));
      } catch (raw) {
        return Promise.reject(this.#fail(input, options, started, found, raw));
      }
    }
    return this.#resolveSlow(input, options, started, plan, i, end);
  }

  /** The plan's levels `from` up to `end` (excluded) through the backends; no plan: {@link #climb}. */
  async #resolveSlow(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    plan: Plan | undefined,
    from: number,
    end: number,
  ): Promise<SecretValue> {
    let found: Found | undefined;
    if (Number.isNaN(started)) started = performance.now(); // async from here: the subscriber may come
    // One deadline for the whole resolve: every level climbed and every replica asked share it.
    const deadlineAt = performance.now() + this.#timeoutMs;
    const signal = options.signal;
    try {
      if (plan === undefined) {
        const ref = validateRef(input);
        assertSubkey(options.subkey);
        found = await this.#climb(ref, options, deadlineAt);
        return this.#finish(ref, input, options, started, found);
      }
      // The climb along the plan, inline: one async function per miss instead of three.
      const { ref, levels } = plan;
      if (levels.length === 0) throw this.#noRule(ref);
      const resolveOptions: DeadlineOptions = { signal, [DEADLINE_AT]: deadlineAt };
      for (let i = from; i < end && found === undefined; i++) {
        const level = levels[i] as PlannedLevel;
        try {
          found = level.rule.fallback?.length
            ? await this.#readAt(level, signal, deadlineAt)
            : {
                value: await level.resolver.resolve(level.ref, resolveOptions),
                namespace: level.foundIn,
                backend: level.rule.backend,
              };
        } catch (error) {
          if (!(error instanceof SecretNotFoundError)) throw error;
        }
      }
      if (found === undefined)
        throw new SecretNotFoundError(ref.key, { searched: this.#searched(ref, options) });
      return this.#finish(ref, input, options, started, found);
    } catch (raw) {
      throw this.#fail(input, options, started, found, this.#timedOut(raw, deadlineAt, signal));
    }
  }

  /** One planned level through its rule's replicas. */
  async #readAt(level: PlannedLevel, signal: AbortSignal | undefined, deadlineAt: number): Promise<Found> {
    const read = await this.#readWithReplicas(level.rule, level.ref, signal, deadlineAt);
    return { value: read.value, namespace: level.foundIn, backend: read.backend };
  }

  #noRule(ref: SecretRef): ConfigurationError {
    const who = ref.tenant === undefined ? "" : ` for tenant '${ref.tenant}'`;
    return new ConfigurationError(
      `No rule serves namespace '${ref.namespace}'${who}: add one to 'namespaces'.`,
    );
  }

  /** The sub-key, if asked, and the record of a found value. */
  #finish(ref: SecretRef, input: SecretRef, options: ResolveOptions, started: number, found: Found) {
    let value = found.value;
    if (options.subkey !== undefined) {
      const leaf = extractSubkey(textOf(value, ref.key, options.subkey), ref.key, options.subkey);
      this.redactor.register(leaf, { key: `${ref.key}.${options.subkey}` });
      value = SecretValue.fromText(leaf, value.metadata);
    }
    this.#record(input, options, started, found, "ok");
    return value;
  }

  #fail(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    found: Found | undefined,
    raw: unknown,
  ): SecretsError {
    const error = this.#failed(raw);
    this.#record(input, options, started, found, error.code, error.backend);
    return error;
  }

  /** What {@link #climb} does for a caller in the ref's own namespace, decided once per ref. */
  #levelsFor(ref: SecretRef): PlannedLevel[] {
    const levels: PlannedLevel[] = [];
    const askedGlobal = new Set<string>();
    for (const level of namespaceChain(ref.namespace)) {
      const rule = this.ruleFor(level, ref.tenant);
      if (!rule) continue;
      const global = this.#backends[rule.backend]?.capabilities.global === true;
      if (global) {
        if (askedGlobal.has(rule.backend)) continue; // same answer at every level
        askedGlobal.add(rule.backend);
      }
      const levelRef = validateRef({ ...ref, namespace: level });
      levels.push({
        rule,
        resolver: this.#resolvers.get(rule.backend) as PeekingResolver,
        ref: levelRef,
        id: refId(levelRef),
        foundIn: global ? rule.match : level,
        entry: undefined,
        touched: 0,
      });
    }
    return levels;
  }

  /** Telemetry and audit for one access; neither can break the resolve. */
  #record(
    ref: SecretRef,
    options: ResolveOptions,
    started: number,
    found: Found | undefined,
    outcome: Outcome,
    failedBackend?: string,
  ): void {
    const backend = found?.backend ?? failedBackend;
    ref = recordable(ref); // the ref as given: maybe not an object, maybe not strings
    // Checked here, not only in publish(), so an unobserved resolve allocates no event closure.
    if (channels.resolve.hasSubscribers)
      publish(channels.resolve, () => ({
        tenant: ref.tenant,
        namespace: ref.namespace,
        key: ref.key,
        backend,
        foundIn: found?.namespace,
        outcome,
        stale: found?.value.stale ?? false,
        // NaN: nobody listened when this (synchronous) resolve started.
        durationMs: Number.isNaN(started) ? 0 : performance.now() - started,
        executionId: options.executionId,
      }));
    if (!this.#audit) return;
    const event: AuditEvent = {
      time: new Date().toISOString(),
      tenant: ref.tenant,
      namespace: ref.namespace,
      key: ref.key,
      backend,
      foundIn: found?.namespace,
      executionId: options.executionId,
      outcome,
    };
    this.#sendAudit(event);
  }

  #sendAudit(event: AuditEvent): void {
    if (!this.#audit) return;
    try {
      const pending = this.#audit(event);
      if (pending) this.#pendingAudits.track(pending.catch(() => this.#auditFailed()));
    } catch {
      this.#auditFailed();
    }
  }

  #auditFailed(): void {
    if (this.#auditFailures++ === 0) {
      process.emitWarning(
        "Keyway: the audit sink failed; failures are counted in stats().auditFailures.",
        "KeywayWarning",
      );
    }
  }

  async resolveMany(
    refs: readonly SecretRef[],
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<Map<SecretRef, SecretValue | SecretsError>> {
    const settled = await Promise.allSettled(refs.map((ref) => this.resolve(ref, options)));
    return new Map(
      refs.map((ref, i) => {
        const r = settled[i] as PromiseSettledResult<SecretValue>;
        return [ref, r.status === "fulfilled" ? r.value : (r.reason as SecretsError)];
      }),
    );
  }

  async explain(input: SecretRef, options: ResolveOptions = {}): Promise<Explanation> {
    let first = { namespace: recordable(input).namespace, backend: "" };
    try {
      const ref = validateRef(input);
      const rule = this.#firstRule(ref);
      first = { namespace: ref.namespace, backend: rule?.backend ?? "" };
      const found = await this.#climb(ref, options, performance.now() + this.#timeoutMs);
      return { status: "found", namespace: found.namespace, backend: found.backend };
    } catch (raw) {
      const error = this.#failed(raw);
      const status =
        (
          {
            NOT_FOUND: "missing",
            ACCESS_DENIED: "denied",
            READ_ONLY: "denied",
            UNAVAILABLE: "unavailable",
            DISABLED: "disabled",
          } as const
        )[error.code as string] ?? "invalid";
      return { status: status as Explanation["status"], ...first, error };
    }
  }

  render(text: string, options: RenderOptions): Promise<string> {
    return renderTemplate(text, options, this.#renderDependencies);
  }

  renderMany(texts: readonly string[], options: RenderOptions): Promise<string[]> {
    return renderTemplates(texts, options, this.#renderDependencies);
  }

  references(text: string): TemplateReference[] {
    return templateReferences(text);
  }

  invalidate(ref: SecretRef): void {
    for (const resolver of this.#resolvers.values()) resolver.invalidate(ref);
  }

  stats(): ResolverStats {
    const total: ResolverStats = {
      hits: 0,
      negativeHits: 0,
      misses: 0,
      staleServed: 0,
      refreshes: 0,
      backendCalls: 0,
      errors: {},
      size: 0,
      auditFailures: this.#auditFailures,
    };
    for (const resolver of this.#resolvers.values()) {
      const s = resolver.stats();
      for (const k of [
        "hits",
        "negativeHits",
        "misses",
        "staleServed",
        "refreshes",
        "backendCalls",
        "size",
      ] as const) {
        total[k] += s[k];
      }
      for (const [code, n] of Object.entries(s.errors)) {
        total.errors[code as keyof ResolverStats["errors"]] =
          (total.errors[code as keyof ResolverStats["errors"]] ?? 0) + n;
      }
    }
    return total;
  }

  async list(
    namespace: string,
    options: { tenant?: string | undefined; inherited?: boolean } = {},
  ): Promise<ListedKey[]> {
    assertNamespace(namespace);
    assertTenant(options.tenant);
    // As get and put: a namespace no rule serves is a configuration error, not an empty list. A rule
    // serves its namespace and everything below, so without one here there is none above either.
    if (!this.ruleFor(namespace, options.tenant))
      throw this.#noRule({ key: "", namespace, tenant: options.tenant });
    const levels = options.inherited ? namespaceChain(namespace) : [namespace];
    const seen = new Set<string>();
    const listedGlobal = new Set<string>();
    const listed: ListedKey[] = [];
    for (const level of levels) {
      const rule = this.ruleFor(level, options.tenant);
      const backend = rule && this.#backends[rule.backend];
      if (!rule || !backend?.list) continue;
      // A global backend (env) holds the same keys at every level: list it once, at its rule.
      const global = backend.capabilities.global === true;
      if (global && listedGlobal.has(rule.backend)) continue;
      listedGlobal.add(rule.backend);
      for (const item of await backend.list(level, { tenant: options.tenant })) {
        const id = backend.capabilities.caseSensitiveKeys ? item.key : item.key.toUpperCase();
        if (seen.has(id)) continue;
        seen.add(id);
        listed.push({ ...item, namespace: global ? rule.match : level, backend: rule.backend });
      }
    }
    return listed;
  }

  async put(input: SecretRef, value: string | Uint8Array, metadata?: PutMetadata): Promise<void> {
    const ref = validateRef(input);
    const { rule, backend } = this.#writable(ref);
    try {
      await backend.put?.(ref, value, metadata);
    } finally {
      this.#resolvers.get(rule.backend)?.invalidate(ref);
    }
  }

  assertWritable(namespace: string, tenant?: string): void {
    assertNamespace(namespace);
    assertTenant(tenant);
    this.#writable({ key: "", namespace, tenant });
  }

  async delete(input: SecretRef): Promise<void> {
    const ref = validateRef(input);
    const { rule, backend } = this.#writable(ref);
    try {
      await backend.delete?.(ref);
    } finally {
      this.#resolvers.get(rule.backend)?.invalidate(ref);
    }
  }

  async prepare(options?: PrepareOptions): Promise<void> {
    const results = await Promise.allSettled([...this.#resolvers.values()].map((r) => r.prepare(options)));
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }

  watch(ref: SecretRef, listener: WatchListener, options?: WatchOptions): Watch;
  watch(ref: SecretRef, options?: WatchOptions): WatchIterator;
  watch(ref: SecretRef, second?: WatchListener | WatchOptions, third?: WatchOptions): Watch | WatchIterator {
    if (typeof second === "function") return this.#watches.watch(ref, second, third);
    return this.#watches.iterate(ref, second);
  }

  async close(): Promise<void> {
    this.#watches.close();
    await Promise.allSettled([...this.#resolvers.values()].map((r) => r.close()));
    // Last: an executor's final audit events must reach the sink before it exits.
    await this.#pendingAudits.flush();
  }

  ruleFor(namespace: string, tenant?: string): RouteRule | undefined {
    // A public entry: anything but strings serves nothing, and the memo key is injective (`""` is
    // not "no tenant", trust issue #18 point 2), so the answer never depends on what came before.
    if (typeof namespace !== "string" || (tenant !== undefined && typeof tenant !== "string"))
      return undefined;
    const memoKey = refId({ tenant, namespace, key: "" });
    let rule = this.#ruleMemo.get(memoKey);
    if (rule === undefined) {
      rule = null;
      for (const candidate of this.#rules) {
        if (candidate.tenant !== tenant || !isWithinNamespace(namespace, candidate.match)) continue;
        if (!rule || candidate.match.length > rule.match.length) rule = candidate;
      }
      if (this.#ruleMemo.size > 10_000) this.#ruleMemo.clear();
      this.#ruleMemo.set(memoKey, rule);
    }
    return rule ?? undefined;
  }

  /**
   * Looks in the namespace, then each ancestor, each in its own rule's backend; only not-found
   * climbs. With `inherit: false`, the namespace only.
   */
  async #climb(ref: SecretRef, options: ResolveOptions, deadlineAt: number): Promise<Found> {
    const caller = options.caller ?? ref.namespace;
    if (caller !== ref.namespace) {
      assertNamespace(caller);
      if (!this.#mayRead(caller, ref.namespace, ref.tenant)) {
        throw new AccessDeniedError(
          `Namespace '${caller}' may not read secrets of namespace '${ref.namespace}' (not an ancestor, and not in its allowedNamespaces).`,
        );
      }
    }
    const askedGlobal = new Set<string>();
    let served = false;
    const levels = options.inherit === false ? [ref.namespace] : namespaceChain(ref.namespace);
    for (const level of levels) {
      const rule = this.ruleFor(level, ref.tenant);
      if (!rule || !this.#mayRead(caller, level, ref.tenant)) continue;
      served = true;
      const global = this.#backends[rule.backend]?.capabilities.global === true;
      if (global) {
        if (askedGlobal.has(rule.backend)) continue; // same answer at every level
        askedGlobal.add(rule.backend);
      }
      try {
        const value = await this.#readWithReplicas(
          rule,
          { ...ref, namespace: level },
          options.signal,
          deadlineAt,
        );
        return { value: value.value, namespace: global ? rule.match : level, backend: value.backend };
      } catch (error) {
        if (!(error instanceof SecretNotFoundError)) throw error;
      }
    }
    if (!served) throw this.#noRule(ref);
    throw new SecretNotFoundError(ref.key, { searched: this.#searched(ref, options) });
  }

  /** The namespaces a resolve of `ref` looks in, with each one's backend, for a not-found message. */
  #searched(ref: SecretRef, options: ResolveOptions): SearchedLevel[] {
    const caller = options.caller ?? ref.namespace;
    const levels = options.inherit === false ? [ref.namespace] : namespaceChain(ref.namespace);
    return levels.flatMap((namespace) => {
      const rule = this.ruleFor(namespace, ref.tenant);
      return rule && this.#mayRead(caller, namespace, ref.tenant)
        ? [{ namespace, backend: rule.backend }]
        : [];
    });
  }

  /** The primary, then each replica in order, only while the one before is unavailable. */
  async #readWithReplicas(
    rule: RouteRule,
    ref: SecretRef,
    signal: AbortSignal | undefined,
    deadlineAt: number,
  ): Promise<{ value: SecretValue; backend: string }> {
    const failures: Array<{ backend: string; error: SecretsError }> = [];
    const names = [rule.backend, ...(rule.fallback ?? [])];
    for (const [i, name] of names.entries()) {
      const resolver = this.#resolvers.get(name) as SecretResolver;
      // Each backend still to ask gets an equal share of the time left, so a blackholed primary
      // leaves its replicas time to answer within the deadline.
      const left = names.length - i;
      const budgetAt =
        left === 1 ? deadlineAt : performance.now() + Math.max(1, (deadlineAt - performance.now()) / left);
      const options: DeadlineOptions = { signal, [DEADLINE_AT]: budgetAt };
      try {
        return { value: await resolver.resolve(ref, options), backend: name };
      } catch (error) {
        if (!(error instanceof BackendUnavailableError) || !rule.fallback?.length) throw error;
        failures.push({ backend: name, error });
      }
    }
    throw new AllBackendsFailedError(ref.key, failures);
  }

  /** Own namespace and ancestors always; elsewhere only through the serving rule's allow list. */
  #mayRead(caller: string, target: string, tenant: string | undefined): boolean {
    if (isWithinNamespace(caller, target)) return true;
    const allowed = this.ruleFor(target, tenant)?.allowedNamespaces ?? [];
    return allowed.some((ns) => isWithinNamespace(caller, ns));
  }

  #firstRule(ref: SecretRef): RouteRule | undefined {
    for (const level of namespaceChain(ref.namespace)) {
      const rule = this.ruleFor(level, ref.tenant);
      if (rule) return rule;
    }
    return undefined;
  }

  #writable(ref: SecretRef): { rule: RouteRule; backend: SecretBackend } {
    const rule = this.ruleFor(ref.namespace, ref.tenant);
    if (!rule) throw this.#noRule(ref);
    const backend = this.#backends[rule.backend] as SecretBackend;
    if (rule.readOnly) {
      throw new ReadOnlyError(
        `Namespace '${ref.namespace}' is read-only (rule '${rule.match || "<root>"}').`,
        {
          backend: rule.backend,
        },
      );
    }
    if (!backend.capabilities.write || !backend.put || !backend.delete) {
      throw new ReadOnlyError(`Backend '${rule.backend}' is read-only.`, { backend: rule.backend });
    }
    return { rule, backend };
  }

  /** An unavailable error caused by the router's own deadline says so. */
  #timedOut(raw: unknown, deadlineAt: number, callerSignal: AbortSignal | undefined): unknown {
    if (performance.now() < deadlineAt || callerSignal?.aborted) return raw;
    if (!(raw instanceof BackendUnavailableError) || raw instanceof AllBackendsFailedError) return raw;
    return new BackendUnavailableError(`Timed out after ${this.#timeoutMs} ms resolving a secret.`, {
      backend: raw.backend,
      cause: raw,
    });
  }

  #failed(raw: unknown): SecretsError {
    const error = isSecretsError(raw)
      ? raw
      : new BackendUnavailableError("Resolving a secret failed unexpectedly.", { cause: raw });
    return this.redactor.redactError(error);
  }
}

/** The fields of a ref, each read once, in a plain object (anything not an object passes as is). */
function snapshot(input: SecretRef): SecretRef {
  if (typeof input !== "object" || input === null) return input;
  const { tenant, namespace, key } = input;
  return tenant === undefined ? ({ namespace, key } as SecretRef) : ({ tenant, namespace, key } as SecretRef);
}

/** The fields of a ref as given, fit for telemetry and audit: strings, whatever the input was. */
function recordable(input: unknown): SecretRef {
  const r = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    tenant: typeof r.tenant === "string" ? r.tenant : undefined,
    namespace: text(r.namespace),
    key: text(r.key),
  };
}

/** A planned level as the watches see it: probed through its resolver (see `probe` in cache/resolver.ts). */
function watchLevel(level: PlannedLevel): WatchLevel {
  const resolver = level.resolver as unknown as {
    probe(ref: SecretRef, signal: AbortSignal): Promise<string | SecretValue>;
  };
  return {
    ref: level.ref,
    id: level.id,
    foundIn: level.foundIn,
    backend: level.rule.backend,
    probe: (signal) => resolver.probe(level.ref, signal),
  };
}

/** The text of a value whose sub-key is read: bytes that are not UTF-8 have none. */
function textOf(value: SecretValue, key: string, subkey: string): string {
  try {
    return value.reveal();
  } catch {
    throw new InvalidSecretValueError(
      `Failed to read secret sub-key '${subkey}' from secret '${key}': the secret is binary, not UTF-8 text.`,
    );
  }
}

/** Checks the rules against the grammar and the backends; every problem names the rule. */
function validateRules(
  rules: readonly RouteRule[],
  backends: Readonly<Record<string, SecretBackend>>,
): RouteRule[] {
  const seen = new Set<string>();
  return rules.map((rule, i) => {
    const where = `namespaces[${i}] (match '${rule.match}')`;
    const fail = (why: string): never => {
      throw new ConfigurationError(`${where}: ${why}`);
    };
    try {
      assertNamespace(rule.match);
      assertTenant(rule.tenant);
    } catch (error) {
      fail((error as Error).message);
    }
    const id = `${rule.tenant ?? ""}|${rule.match}`;
    if (seen.has(id)) fail("another rule has the same match and tenant.");
    seen.add(id);
    for (const name of [rule.backend, ...(rule.fallback ?? [])]) {
      // Own properties only: `constructor` or `toString` must not pass for a backend.
      const backend = Object.hasOwn(backends, name) ? backends[name] : undefined;
      if (!backend) fail(`backend '${name}' is not defined in 'backends'.`);
      if (backend?.capabilities.global && rule.tenant !== undefined && !rule.shared) {
        fail(`backend '${name}' ignores tenants; set 'shared: true' to let tenant '${rule.tenant}' use it.`);
      }
    }
    for (const ns of rule.allowedNamespaces ?? []) {
      try {
        assertNamespace(ns);
      } catch (error) {
        fail(`allowedNamespaces: ${(error as Error).message}`);
      }
    }
    return Object.freeze({ ...rule });
  });
}
