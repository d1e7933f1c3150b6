/**
 * The replicas room: a rule's primary, then each replica in order, only while the one before is
 * unavailable, sharing the resolve's one deadline.
 */
import { DEADLINE_AT, type DeadlineOptions } from "../cache/call/deadline.js";
import { AllBackendsFailedError, BackendUnavailableError, type SecretsError } from "../errors.js";
import type { SecretRef } from "../ref.js";
import type { SecretResolver } from "../resolver.js";
import type { SecretValue } from "../value.js";
import type { RouteRule } from "./rules.js";

/** A value and the name of the backend (primary or replica) that answered. */
export interface ReplicaRead {
  readonly value: SecretValue;
  readonly backend: string;
}

/**
 * Reads `ref` from the rule's backend; when it is unavailable and the rule has replicas, from each
 * replica in order. Each backend still to ask gets an equal share of the time left, so a
 * blackholed primary leaves its replicas time to answer within the deadline.
 * @throws the primary's error without replicas; AllBackendsFailedError when all were unavailable
 */
export async function readWithReplicas(
  resolvers: ReadonlyMap<string, SecretResolver>,
  rule: RouteRule,
  ref: SecretRef,
  signal: AbortSignal | undefined,
  deadlineAt: number,
): Promise<ReplicaRead> {
  const failures: Array<{ backend: string; error: SecretsError }> = [];
  const names = [rule.backend, ...(rule.fallback ?? [])];
  for (const [i, name] of names.entries()) {
    const resolver = resolvers.get(name) as SecretResolver;
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
