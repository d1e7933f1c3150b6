/**
 * The access room: who may read where (a namespace reads its own and its ancestors', and elsewhere
 * only through the serving rule's allow list, per tenant), and where a write may go (a rule, not
 * read-only, on a backend that writes).
 */
import type { SecretBackend } from "../backend.js";
import { AccessDeniedError, ReadOnlyError } from "../errors.js";
import { assertNamespace, isWithinNamespace, type SecretRef } from "../ref.js";
import { noRule, type RouteRule, type RuleBook } from "./rules.js";

/** Own namespace and ancestors always; elsewhere only through the serving rule's allow list. */
export function mayRead(
  rules: RuleBook,
  caller: string,
  target: string,
  tenant: string | undefined,
): boolean {
  if (isWithinNamespace(caller, target)) return true;
  const allowed = rules.ruleFor(target, tenant)?.allowedNamespaces ?? [];
  return allowed.some((ns) => isWithinNamespace(caller, ns));
}

/**
 * Checks a read of `ref` by `caller` (the namespace of the flow asking; `undefined`: the ref's own).
 * @throws InvalidReferenceError for a caller outside the grammar, AccessDeniedError when it may not read there
 */
export function assertMayRead(rules: RuleBook, caller: string | undefined, ref: SecretRef): void {
  if (caller === undefined || caller === ref.namespace) return;
  assertNamespace(caller);
  if (!mayRead(rules, caller, ref.namespace, ref.tenant)) {
    throw new AccessDeniedError(
      `Namespace '${caller}' may not read secrets of namespace '${ref.namespace}' (not an ancestor, and not in its allowedNamespaces).`,
    );
  }
}

/** The rule and backend a write of `ref` goes to. */
export interface WriteTarget {
  readonly rule: RouteRule;
  readonly backend: SecretBackend;
}

/**
 * Where a write of `ref` goes.
 * @throws ConfigurationError (no rule), ReadOnlyError (a read-only rule, or a backend without writes)
 */
export function writeTarget(
  rules: RuleBook,
  backends: Readonly<Record<string, SecretBackend>>,
  ref: SecretRef,
): WriteTarget {
  const rule = rules.ruleFor(ref.namespace, ref.tenant);
  if (!rule) throw noRule(ref);
  const backend = backends[rule.backend] as SecretBackend;
  if (rule.readOnly) {
    throw new ReadOnlyError(`Namespace '${ref.namespace}' is read-only (rule '${rule.match || "<root>"}').`, {
      backend: rule.backend,
    });
  }
  if (!backend.capabilities.write || !backend.put || !backend.delete) {
    throw new ReadOnlyError(`Backend '${rule.backend}' is read-only.`, { backend: rule.backend });
  }
  return { rule, backend };
}
