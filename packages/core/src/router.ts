/**
 * The namespace-aware router: which backend serves which namespace (longest prefix on whole
 * segments, per tenant), inheritance up the namespace tree, allow lists, read-only rules and
 * replicas. It is a `SecretResolver`, plus templates, listing and writes.
 */
import type { PutMetadata, SecretBackend, SecretListing } from "./backend.js";
import type { BreakerOptions } from "./breaker.js";
import { type CacheOptions, createResolver } from "./cache.js";
import {
  AccessDeniedError,
  AllBackendsFailedError,
  BackendUnavailableError,
  ConfigurationError,
  isSecretsError,
  ReadOnlyError,
  SecretNotFoundError,
  type SecretsError,
} from "./errors.js";
import { createRedactor } from "./redact/index.js";
import type { Redactor } from "./redact/types.js";
import {
  assertNamespace,
  assertTenant,
  isWithinNamespace,
  namespaceChain,
  type SecretRef,
  validateRef,
} from "./ref.js";
import { type RenderOptions, renderTemplate, type TemplateReference, templateReferences } from "./render.js";
import type { ResolveOptions, ResolverStats, SecretResolver } from "./resolver.js";
import type { RetryOptions } from "./retry.js";
import { extractSubkey } from "./subkey.js";
import { channels, type Outcome, publish } from "./telemetry.js";
import { SecretValue } from "./value.js";

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
  references(text: string): TemplateReference[];
  explain(ref: SecretRef, options?: ResolveOptions): Promise<Explanation>;
  list(
    namespace: string,
    options?: { tenant?: string | undefined; inherited?: boolean },
  ): Promise<ListedKey[]>;
  put(ref: SecretRef, value: string | Uint8Array, metadata?: PutMetadata): Promise<void>;
  delete(ref: SecretRef): Promise<void>;
  /** The rule that serves a namespace for a tenant, if any. */
  ruleFor(namespace: string, tenant?: string): RouteRule | undefined;
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

class NamespaceRouter implements Router {
  readonly redactor: Redactor;
  readonly #backends: Readonly<Record<string, SecretBackend>>;
  readonly #resolvers = new Map<string, SecretResolver>();
  readonly #rules: readonly RouteRule[];
  readonly #ruleMemo = new Map<string, RouteRule | null>();
  readonly #envs: Readonly<Record<string, string>>;
  readonly #audit: AuditSink | undefined;
  #auditFailures = 0;

  constructor(options: RouterOptions) {
    this.redactor = options.redactor ?? createRedactor();
    this.#backends = options.backends;
    this.#envs = options.envs ?? {};
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
          redactor: this.redactor,
        }),
      );
    }
  }

  async resolve(input: SecretRef, options: ResolveOptions = {}): Promise<SecretValue> {
    const started = performance.now();
    let found: Found | undefined;
    try {
      const ref = validateRef(input);
      found = await this.#climb(ref, options);
      let value = found.value;
      if (options.subkey !== undefined) {
        const leaf = extractSubkey(value.reveal(), ref.key, options.subkey);
        this.redactor.register(leaf, { key: `${ref.key}.${options.subkey}` });
        value = SecretValue.fromText(leaf, value.metadata);
      }
      this.#record(input, options, started, found, "ok");
      return value;
    } catch (raw) {
      const error = this.#failed(raw);
      this.#record(input, options, started, found, error.code, error.backend);
      throw error;
    }
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
    publish(channels.resolve, () => ({
      tenant: ref.tenant,
      namespace: ref.namespace,
      key: ref.key,
      backend,
      foundIn: found?.namespace,
      outcome,
      stale: found?.value.stale ?? false,
      durationMs: performance.now() - started,
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
    try {
      const pending = this.#audit(event);
      if (pending) pending.catch(() => this.#auditFailed());
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
    let first = { namespace: input.namespace, backend: "" };
    try {
      const ref = validateRef(input);
      const rule = this.#firstRule(ref);
      first = { namespace: ref.namespace, backend: rule?.backend ?? "" };
      const found = await this.#climb(ref, options);
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
    return renderTemplate(text, options, {
      resolve: (ref, caller, signal, executionId) => this.resolve(ref, { caller, signal, executionId }),
      redactor: this.redactor,
      envs: this.#envs,
    });
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

  async delete(input: SecretRef): Promise<void> {
    const ref = validateRef(input);
    const { rule, backend } = this.#writable(ref);
    try {
      await backend.delete?.(ref);
    } finally {
      this.#resolvers.get(rule.backend)?.invalidate(ref);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#resolvers.values()].map((r) => r.close()));
  }

  ruleFor(namespace: string, tenant?: string): RouteRule | undefined {
    const memoKey = `${tenant ?? ""}|${namespace}`;
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

  /** Looks in the namespace, then each ancestor, each in its own rule's backend; only not-found climbs. */
  async #climb(ref: SecretRef, options: ResolveOptions): Promise<Found> {
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
    for (const level of namespaceChain(ref.namespace)) {
      const rule = this.ruleFor(level, ref.tenant);
      if (!rule || !this.#mayRead(caller, level, ref.tenant)) continue;
      served = true;
      const global = this.#backends[rule.backend]?.capabilities.global === true;
      if (global) {
        if (askedGlobal.has(rule.backend)) continue; // same answer at every level
        askedGlobal.add(rule.backend);
      }
      try {
        const value = await this.#readWithReplicas(rule, { ...ref, namespace: level }, options.signal);
        return { value: value.value, namespace: global ? rule.match : level, backend: value.backend };
      } catch (error) {
        if (!(error instanceof SecretNotFoundError)) throw error;
      }
    }
    if (!served) {
      const who = ref.tenant === undefined ? "" : ` for tenant '${ref.tenant}'`;
      throw new ConfigurationError(
        `No rule serves namespace '${ref.namespace}'${who}: add one to 'namespaces'.`,
      );
    }
    throw new SecretNotFoundError(ref.key);
  }

  /** The primary, then each replica in order, only while the one before is unavailable. */
  async #readWithReplicas(
    rule: RouteRule,
    ref: SecretRef,
    signal: AbortSignal | undefined,
  ): Promise<{ value: SecretValue; backend: string }> {
    const failures: Array<{ backend: string; error: SecretsError }> = [];
    for (const name of [rule.backend, ...(rule.fallback ?? [])]) {
      const resolver = this.#resolvers.get(name) as SecretResolver;
      try {
        return { value: await resolver.resolve(ref, { signal }), backend: name };
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
    if (!rule)
      throw new ConfigurationError(`No rule serves namespace '${ref.namespace}': add one to 'namespaces'.`);
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

  #failed(raw: unknown): SecretsError {
    const error = isSecretsError(raw)
      ? raw
      : new BackendUnavailableError("Resolving a secret failed unexpectedly.", { cause: raw });
    return this.redactor.redactError(error);
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
      const backend = backends[name];
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
