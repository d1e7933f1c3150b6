/**
 * The climb: the one resolve algorithm. A ref is validated once, into a plan (router/plans.ts);
 * its levels are read from the ref's own namespace up, synchronously while their cache entries
 * are live, then through the backends (and a rule's replicas); only not-found climbs. Resolve,
 * resolveMany, render (through resolve), explain (`keyway check`) and the watch's levels all take
 * their levels from the same plan, so they cannot disagree on where a ref is served from.
 */
import { DEADLINE_AT, type DeadlineOptions } from "../cache/call/deadline.js";
import type { Plan } from "../cache/ref-memo.js";
import {
  AllBackendsFailedError,
  BackendUnavailableError,
  isSecretsError,
  SecretNotFoundError,
  type SecretsError,
} from "../errors.js";
import type { Redactor } from "../redact/types.js";
import { assertSubkey, type SecretRef, validateRef } from "../ref.js";
import type { ResolveOptions, SecretResolver } from "../resolver.js";
import { readSubkey } from "../subkey.js";
import { channels } from "../telemetry.js";
import { SecretValue } from "../value.js";
import { type AccessRecorder, type Found, recordable } from "./audit.js";
import { type ClimbPlan, climbEnd, type PlannedLevel, type Planner } from "./plans.js";
import { readWithReplicas } from "./replicas.js";
import { noRule, type RuleBook } from "./rules.js";

/** Where a ref would be (or was) served from; what `keyway check` prints. Never the value. */
export interface Explanation {
  readonly status: "found" | "missing" | "denied" | "unavailable" | "disabled" | "invalid";
  /** The namespace level that holds it (found) or that was asked first. */
  readonly namespace: string;
  readonly backend: string;
  readonly error?: SecretsError;
}

const NO_OPTIONS: ResolveOptions = Object.freeze({});
/** Read on every resolve: one module binding instead of a property of `channels`. */
const resolveChannel = channels.resolve;

const EXPLAINED: Readonly<Record<string, Explanation["status"]>> = {
  NOT_FOUND: "missing",
  ACCESS_DENIED: "denied",
  READ_ONLY: "denied",
  UNAVAILABLE: "unavailable",
  DISABLED: "disabled",
};

/** What a read makes of its climb: a resolve a value (or a thrown error), an explain an explanation. */
interface Ending<T> {
  /** The plan of a read not planned yet (validation first). */
  plan(input: SecretRef, options: ResolveOptions): ClimbPlan;
  found(ref: SecretRef, input: SecretRef, options: ResolveOptions, started: number, found: Found): T;
  failed(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    found: Found | undefined,
    raw: unknown,
  ): T;
}

export interface ClimbDependencies {
  readonly rules: RuleBook;
  readonly planner: Planner;
  readonly resolvers: ReadonlyMap<string, SecretResolver>;
  readonly recorder: AccessRecorder;
  readonly redactor: Redactor;
  readonly timeoutMs: number;
}

export class Climb {
  readonly #deps: ClimbDependencies;
  readonly #plans: Planner["memo"];
  readonly #recorder: AccessRecorder;
  /** An audit sink is set (fixed for the router's life): read by every resolve, so a field. */
  readonly #auditing: boolean;
  readonly #timeoutMs: number;

  constructor(deps: ClimbDependencies) {
    this.#deps = deps;
    this.#plans = deps.planner.memo;
    this.#recorder = deps.recorder;
    this.#auditing = deps.recorder.auditing;
    this.#timeoutMs = deps.timeoutMs;
  }

  /**
   * Not `async`, for the cached case (the hot path of every executor): the ref's plan comes from a
   * memo (no validation, namespace chain, rule lookups or ref copies per call), each level's cache
   * is read synchronously, and a hit returns its entry's settled promise, instead of four nested
   * async functions, each allocating a promise and a microtask hop, plus an error object built,
   * redacted and thrown for every level an inherited key climbs past. The first level without a
   * live entry continues in {@link #slow}, which starts at that level so no level is counted twice.
   *
   * The common call (no options, nobody listening, no audit, found at the first level) is kept in
   * this small function so V8 inlines it into the caller; everything else is {@link #from}.
   */
  resolve(input: SecretRef, options?: ResolveOptions): Promise<SecretValue> {
    if (options === undefined && !this.#auditing && !resolveChannel.hasSubscribers) {
      const plan = this.#plans.known(input);
      const level = plan?.first;
      if (level !== undefined) {
        const hit = level.resolver.peek(level.ref, level.id, level);
        if (hit) {
          hit.settled ??= Promise.resolve(hit.value);
          return hit.settled;
        }
        return this.#notAtFirstLevel(input, plan as Plan<PlannedLevel>, hit);
      }
    }
    return this.#from(input, options ?? NO_OPTIONS, undefined, 0);
  }

  /** The rest of a plain resolve whose first level held no live value. */
  #notAtFirstLevel(
    input: SecretRef,
    plan: Plan<PlannedLevel>,
    first: null | undefined,
  ): Promise<SecretValue> {
    // A cached not-found (counted by peek): climb on from the next level. Not cached: the backend.
    if (first === null) return this.#from(input, NO_OPTIONS, plan, 1);
    return this.#slow(input, NO_OPTIONS, Number.NaN, plan, 0);
  }

  /** The plan's levels from `from` on, synchronously while their entries are live. */
  #from(
    input: SecretRef,
    options: ResolveOptions,
    known: Plan<PlannedLevel> | undefined,
    from: number,
  ): Promise<SecretValue> {
    // The start time serves only the telemetry event's duration: read only while someone listens,
    // since a clock read can cost as much as the rest of a cached resolve (see cache.ts).
    const started = channels.resolve.hasSubscribers ? performance.now() : Number.NaN;
    // Read the ref once: a getter must not pass the caller check with one namespace and plan another.
    input = snapshot(input);
    // The sub-key is part of the reference: checked with it, before any memo or cache is read.
    if (options.subkey !== undefined && typeof options.subkey !== "string") {
      return this.#slow(input, options, started, undefined, 0);
    }
    const memo =
      known ??
      (options.caller === undefined || options.caller === (input as Partial<SecretRef> | null)?.namespace
        ? this.#plans.planFor(input)
        : undefined);
    if (memo === undefined) return this.#slow(input, options, started, undefined, 0);
    const levels = memo.levels;
    const end = climbEnd(levels, options.inherit);
    let i = from;
    for (; i < end; i++) {
      const level = levels[i] as PlannedLevel;
      const hit = level.resolver.peek(level.ref, level.id, level);
      if (hit === undefined) break; // not cached: ask the backend from this level on
      if (hit === null) continue; // a cached not-found: climb
      // Nothing to record (no listener, no audit) and no sub-key: the entry's settled promise,
      // made once and shared by every hit (see `settled` in cache.ts), so a hit allocates nothing.
      if (options.subkey === undefined && !this.#auditing && Number.isNaN(started)) {
        hit.settled ??= Promise.resolve(hit.value);
        return hit.settled;
      }
      const found: Found = { value: hit.value, namespace: level.foundIn, backend: level.rule.backend };
      try {
        return Promise.resolve(this.#finish(memo.ref, input, options, started, found));
      } catch (raw) {
        return Promise.reject(this.#fail(input, options, started, found, raw));
      }
    }
    return this.#slow(input, options, started, memo, i);
  }

  /** The climb from level `from` through the backends; no plan yet: validated and planned first. */
  #slow(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    plan: ClimbPlan | undefined,
    from: number,
  ): Promise<SecretValue> {
    return this.#climb(input, options, started, plan, from, this.#resolving);
  }

  /** How a resolve ends: the value finished (sub-key, record), or the failure mapped and recorded. */
  readonly #resolving: Ending<SecretValue> = {
    plan: (input, options) => {
      const ref = validateRef(input);
      assertSubkey(options.subkey);
      return this.#deps.planner.plan(ref, options.caller);
    },
    found: (ref, input, options, started, found) => this.#finish(ref, input, options, started, found),
    failed: (input, options, started, found, raw) => {
      throw this.#fail(input, options, started, found, raw);
    },
  };

  /**
   * The climb through the backends, the one algorithm every read shares: the plan's levels from
   * `from` on, each through its resolver (or its rule's replicas) under one deadline; only
   * not-found climbs. `ending` says what a resolve or an explain makes of the result. One async
   * function per miss (each more costs a microtask hop per waiter of a cold burst).
   */
  async #climb<T>(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    plan: ClimbPlan | undefined,
    from: number,
    ending: Ending<T>,
  ): Promise<T> {
    let found: Found | undefined;
    if (Number.isNaN(started)) started = performance.now(); // async from here: the subscriber may come
    // One deadline for the whole resolve: every level climbed and every replica asked share it.
    const deadlineAt = performance.now() + this.#timeoutMs;
    const signal = options.signal;
    try {
      plan ??= ending.plan(input, options);
      const { ref, levels } = plan;
      const end = climbEnd(levels, options.inherit);
      if (levels.length === 0) throw noRule(ref);
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
        throw new SecretNotFoundError(ref.key, {
          searched: this.#deps.planner.searched(ref, options.caller, options.inherit),
        });
      return ending.found(ref, input, options, started, found);
    } catch (raw) {
      return ending.failed(input, options, started, found, this.#timedOut(raw, deadlineAt, signal));
    }
  }

  /** One level through its rule's replicas. */
  async #readAt(level: PlannedLevel, signal: AbortSignal | undefined, deadlineAt: number): Promise<Found> {
    const read = await readWithReplicas(this.#deps.resolvers, level.rule, level.ref, signal, deadlineAt);
    return { value: read.value, namespace: level.foundIn, backend: read.backend };
  }

  /** Where a resolve of `input` is served from: the resolve's own plan and climb, nothing recorded. */
  explain(input: SecretRef, options: ResolveOptions = {}): Promise<Explanation> {
    let first = { namespace: recordable(input).namespace, backend: "" };
    const explained = (raw: unknown): Explanation => {
      const error = this.#mapped(raw);
      return { status: EXPLAINED[error.code] ?? "invalid", ...first, error };
    };
    let plan: ClimbPlan;
    try {
      const ref = validateRef(input);
      const rule = this.#deps.rules.firstRule(ref.namespace, ref.tenant);
      first = { namespace: ref.namespace, backend: rule?.backend ?? "" };
      plan = this.#deps.planner.plan(ref, options.caller);
    } catch (raw) {
      return Promise.resolve(explained(raw));
    }
    return this.#climb<Explanation>(input, options, Number.NaN, plan, 0, {
      plan: () => plan,
      found: (_ref, _input, _options, _started, found) => ({
        status: "found",
        namespace: found.namespace,
        backend: found.backend,
      }),
      failed: (_input, _options, _started, _found, raw) => explained(raw),
    });
  }

  /** The sub-key, if asked, and the record of a found value. */
  #finish(ref: SecretRef, input: SecretRef, options: ResolveOptions, started: number, found: Found) {
    let value = found.value;
    if (options.subkey !== undefined) {
      const leaf = readSubkey(value, ref.key, options.subkey, this.#deps.redactor);
      value = SecretValue.fromText(leaf, value.metadata);
    }
    this.#recorder.record(input, options, started, found, "ok");
    return value;
  }

  #fail(
    input: SecretRef,
    options: ResolveOptions,
    started: number,
    found: Found | undefined,
    raw: unknown,
  ): SecretsError {
    const error = this.#mapped(raw);
    this.#recorder.record(input, options, started, found, error.code, error.backend);
    return error;
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

  /** The one mapping of a failure to what the caller sees: a typed error, redacted. */
  #mapped(raw: unknown): SecretsError {
    const error = isSecretsError(raw)
      ? raw
      : new BackendUnavailableError("Resolving a secret failed unexpectedly.", { cause: raw });
    return this.#deps.redactor.redactError(error);
  }
}

/** The fields of a ref, each read once, in a plain object (anything not an object passes as is). */
function snapshot(input: SecretRef): SecretRef {
  if (typeof input !== "object" || input === null) return input;
  const { tenant, namespace, key } = input;
  return tenant === undefined ? ({ namespace, key } as SecretRef) : ({ tenant, namespace, key } as SecretRef);
}
