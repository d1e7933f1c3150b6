/** A scriptable backend for resolver tests: counts calls, answers per key as told. */
import {
  type BackendCapabilities,
  type GetManyResult,
  type SecretBackend,
  SecretNotFoundError,
  type SecretRef,
  type SecretsError,
  SecretValue,
} from "../src/internal.js";

export type Behaviour = string | SecretsError | (() => Promise<string>);

export interface ScriptedBackend extends SecretBackend {
  answers: Map<string, Behaviour>;
  calls: string[];
  batchCalls: SecretRef[][];
}

export function scriptedBackend(
  answers: Record<string, Behaviour> = {},
  options: { batch?: boolean; name?: string; latencyMs?: number } = {},
): ScriptedBackend {
  const capabilities: BackendCapabilities = {
    write: false,
    list: false,
    batch: options.batch ?? false,
    versions: false,
    caseSensitiveKeys: true,
    maxValueBytes: 1024,
  };
  const backend: ScriptedBackend = {
    name: options.name ?? "scripted",
    capabilities,
    answers: new Map(Object.entries(answers)),
    calls: [],
    batchCalls: [],
    async get(ref: SecretRef) {
      backend.calls.push(ref.key);
      return answer(backend, ref, options.latencyMs);
    },
  };
  if (options.batch) {
    backend.getMany = async (refs: readonly SecretRef[]) => {
      backend.batchCalls.push([...refs]);
      const out: GetManyResult = new Map();
      for (const ref of refs) out.set(ref, await answer(backend, ref, 0).catch((e: SecretsError) => e));
      return out;
    };
  }
  return backend;
}

async function answer(backend: ScriptedBackend, ref: SecretRef, latencyMs = 0): Promise<SecretValue> {
  if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
  const behaviour = backend.answers.get(ref.key);
  if (behaviour === undefined) throw new SecretNotFoundError(ref.key, { backend: backend.name });
  if (typeof behaviour === "string") return SecretValue.fromText(behaviour);
  if (typeof behaviour === "function") return SecretValue.fromText(await behaviour());
  throw behaviour;
}

/** A clock the test moves by hand. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

/** Lets pending promise callbacks and zero-delay timers run. */
export const flush = () => new Promise((r) => setTimeout(r, 0));
