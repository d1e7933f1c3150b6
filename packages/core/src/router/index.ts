/**
 * The namespace-aware router: which backend serves which namespace (longest prefix on whole
 * segments, per tenant), inheritance up the namespace tree, allow lists, read-only rules and
 * replicas. It is a `SecretResolver`, plus templates, listing, writes and watches.
 *
 * This file wires the rooms; each does one job:
 * rules.ts (validation, lookup) · access.ts (allow lists, tenants, read-only) · plans.ts (the
 * levels a read climbs) · climb.ts (the one resolve algorithm, explain) · replicas.ts · writes.ts
 * · listing.ts · audit.ts (telemetry and audit per access).
 */
import type { AuditSink } from "../audit.js";
import type { PrepareOptions, PutMetadata, SecretBackend, WriteOptions } from "../backend.js";
import type { BreakerOptions } from "../cache/call/breaker.js";
import type { RetryOptions } from "../cache/call/retry.js";
import { type CacheOptions, createResolver } from "../cache/index.js";
import type { SecretsError } from "../errors.js";
import { createRedactor } from "../redact/index.js";
import type { Redactor } from "../redact/types.js";
import type { SecretRef } from "../ref.js";
import {
  type RenderDependencies,
  type RenderOptions,
  renderTemplate,
  renderTemplates,
  type TemplateReference,
  templateReferences,
} from "../render.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "../resolver.js";
import type { SecretValue } from "../value.js";
import {
  type Watch,
  Watches,
  type WatchIterator,
  type WatchLevel,
  type WatchListener,
  type WatchOptions,
} from "../watch/index.js";
import { AccessRecorder } from "./audit.js";
import { Climb, type Explanation } from "./climb.js";
import { type ListedKey, listKeys } from "./listing.js";
import { type PlannedLevel, Planner } from "./plans.js";
import { noRule, type RouteRule, RuleBook } from "./rules.js";
import { Writes } from "./writes.js";

export type { AuditEvent, AuditSink } from "../audit.js";
export type { Explanation } from "./climb.js";
export type { ListedKey } from "./listing.js";
export { type BackendLookup, findRuleProblem, type RouteRule, type RuleProblem, rulePath } from "./rules.js";

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

/** A `SecretResolver` over many backends, with templates, listing and writes. */
export interface Router extends SecretResolver {
  render(text: string, options: RenderOptions): Promise<string>;
  /** Renders many texts as one template: references resolved at once, failures reported together. */
  renderMany(texts: readonly string[], options: RenderOptions): Promise<string[]>;
  references(text: string): TemplateReference[];
  /** Where a resolve of `ref` is served from (what `keyway check` prints), by the resolve's own climb. */
  explain(ref: SecretRef, options?: ResolveOptions): Promise<Explanation>;
  list(
    namespace: string,
    options?: { tenant?: string | undefined; inherited?: boolean },
  ): Promise<ListedKey[]>;
  /** Creates or replaces a secret; `options.ifVersion` makes it a compare-and-set (ConflictError). */
  put(
    ref: SecretRef,
    value: string | Uint8Array,
    metadata?: PutMetadata,
    options?: WriteOptions,
  ): Promise<void>;
  delete(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /**
   * Brings back a soft-deleted secret. The checks of `put` and `delete` first; a backend without
   * soft delete is a ConfigurationError.
   */
  restore(ref: SecretRef, options?: WriteOptions): Promise<void>;
  /** Removes a secret and all its versions for good (soft-deleted or not); as `restore`. */
  purge(ref: SecretRef, options?: WriteOptions): Promise<void>;
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
 * @throws ConfigurationError naming the first invalid rule
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

const STAT_COUNTERS = [
  "hits",
  "negativeHits",
  "misses",
  "staleServed",
  "refreshes",
  "backendCalls",
  "size",
] as const;

class NamespaceRouter implements Router {
  readonly redactor: Redactor;
  readonly #backends: Readonly<Record<string, SecretBackend>>;
  readonly #resolvers = new Map<string, SecretResolver>();
  readonly #rules: RuleBook;
  readonly #recorder: AccessRecorder;
  readonly #climb: Climb;
  readonly #writes: Writes;
  readonly #watches: Watches;
  /** What `render` and `renderMany` resolve and mask with. */
  readonly #renderDependencies: RenderDependencies;

  constructor(options: RouterOptions) {
    this.redactor = options.redactor ?? createRedactor();
    this.#backends = options.backends;
    // Own properties only: `constructor` or `toString` must not pass for a backend.
    this.#rules = new RuleBook(options.rules, (name) =>
      Object.hasOwn(options.backends, name) ? options.backends[name] : undefined,
    );
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
    this.#recorder = new AccessRecorder(options.audit);
    const planner = new Planner(this.#rules, this.#backends, this.#resolvers);
    this.#climb = new Climb({
      rules: this.#rules,
      planner,
      resolvers: this.#resolvers,
      recorder: this.#recorder,
      redactor: this.redactor,
      timeoutMs: options.timeoutMs ?? 5000,
    });
    this.#writes = new Writes(this.#rules, this.#backends, this.#resolvers);
    this.#watches = new Watches({
      // The watch follows the levels a resolve climbs: the same plan.
      levels: (ref) => {
        const { levels } = planner.plan(ref, undefined);
        if (levels.length === 0) throw noRule(ref);
        return levels.map(watchLevel);
      },
      invalidate: (ref) => this.invalidate(ref),
      audit: (event) => this.#recorder.send(event),
      backend: (name) => this.#backends[name],
      timeoutMs: () => options.timeoutMs ?? 5000,
    });
    this.#renderDependencies = {
      resolve: (ref, caller, signal, executionId) => this.resolve(ref, { caller, signal, executionId }),
      redactor: this.redactor,
      envs: options.envs ?? {},
    };
  }

  resolve(input: SecretRef, options?: ResolveOptions): Promise<SecretValue> {
    return this.#climb.resolve(input, options);
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

  explain(input: SecretRef, options?: ResolveOptions): Promise<Explanation> {
    return this.#climb.explain(input, options);
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
      ...Object.fromEntries(STAT_COUNTERS.map((k) => [k, 0])),
      errors: {},
      auditFailures: this.#recorder.failures,
    } as ResolverStats;
    for (const resolver of this.#resolvers.values()) {
      const s = resolver.stats();
      for (const k of STAT_COUNTERS) total[k] += s[k];
      for (const [code, n] of Object.entries(s.errors)) {
        const c = code as keyof ResolverStats["errors"];
        total.errors[c] = (total.errors[c] ?? 0) + n;
      }
    }
    return total;
  }

  list(namespace: string, options: { tenant?: string | undefined; inherited?: boolean } = {}) {
    return listKeys(this.#rules, this.#backends, namespace, options);
  }

  put(ref: SecretRef, value: string | Uint8Array, metadata?: PutMetadata, options?: WriteOptions) {
    return this.#writes.put(ref, value, metadata, options);
  }

  delete(ref: SecretRef, options?: WriteOptions): Promise<void> {
    return this.#writes.delete(ref, options);
  }

  restore(ref: SecretRef, options?: WriteOptions): Promise<void> {
    return this.#writes.restore(ref, options);
  }

  purge(ref: SecretRef, options?: WriteOptions): Promise<void> {
    return this.#writes.purge(ref, options);
  }

  assertWritable(namespace: string, tenant?: string): void {
    this.#writes.assertWritable(namespace, tenant);
  }

  ruleFor(namespace: string, tenant?: string): RouteRule | undefined {
    return this.#rules.ruleFor(namespace, tenant);
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
    await this.#recorder.flush();
  }
}

/** A planned level as the watches see it: probed through its resolver, as reads are. */
function watchLevel(level: PlannedLevel): WatchLevel {
  return {
    ref: level.ref,
    id: level.id,
    foundIn: level.foundIn,
    backend: level.rule.backend,
    probe: (signal) => level.resolver.probe(level.ref, signal),
  };
}
