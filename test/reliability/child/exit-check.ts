// Run by exit.test.ts in a plain `node` child process (see register.mjs): resolves one secret per
// scenario through a router whose backends talk to the Toxiproxy links the parent set up (healthy,
// blackholed, slow, reset, refused), closes the router, prints one JSON line and then does
// nothing. The parent checks that the process ends on its own, promptly: no leaked socket, timer
// or pending request keeps it alive. It never calls process.exit.
import { createRouter, isSecretsError, type RouteRule, type SecretBackend } from "@keyway/core";
import { type BackendServer, makeBackend } from "../support/backends.js";

/** One resolve the child makes; exit.test.ts builds them. */
export interface Scenario {
  name: string;
  kind: BackendServer;
  address: string;
  scope: string;
  namespace: string;
  key: string;
  expected?: string;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as {
  /** The deadline of the resolves through faulty links: what this check is about. */
  timeoutMs: number;
  /** The deadline of the healthy reads, which must succeed even on a busy machine. */
  healthyTimeoutMs: number;
  scenarios: Scenario[];
};
const healthy = (s: Scenario) => s.name.endsWith("-healthy");
const unhandled: string[] = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason));
});

/** One router per deadline: the healthy reads get a long one, the faulty links the short one. */
function routerFor(scenarios: Scenario[], timeoutMs: number) {
  const backends: Record<string, SecretBackend> = {};
  const rules: RouteRule[] = [];
  for (const s of scenarios) {
    backends[s.name] = makeBackend(s.kind, { address: s.address, scope: s.scope, name: s.name });
    rules.push({ match: s.namespace, backend: s.name });
  }
  return createRouter({
    backends,
    rules,
    timeoutMs,
    retry: { attempts: 2, baseDelayMs: 20 },
    cache: { ttlMs: 0, negativeTtlMs: 0 },
  });
}
const healthyRouter = routerFor(spec.scenarios.filter(healthy), spec.healthyTimeoutMs);
const faultyRouter = routerFor(
  spec.scenarios.filter((s) => !healthy(s)),
  spec.timeoutMs,
);

// What a service does at startup: the SDKs load and the clients are built before the first
// resolve, so no resolve spends its 700 ms deadline on loading three SDKs on two busy cores (it
// did: healthy reads took ~600 ms of it). Every backend here has static credentials, so this
// makes no request and readies the faulty links' backends as well as the healthy ones'.
await Promise.all([healthyRouter.prepare(), faultyRouter.prepare()]);
const results = await Promise.all(
  spec.scenarios.map(async (s) => {
    const router = healthy(s) ? healthyRouter : faultyRouter;
    const deadlineMs = healthy(s) ? spec.healthyTimeoutMs : spec.timeoutMs;
    // `ms` leaves out how late this process's timers ran (a plain timer for the same deadline
    // shows it): on a busy machine they run hundreds of ms late, the resolve's deadline too.
    const started = performance.now();
    let lateMs: number | undefined;
    const reference = setTimeout(() => {
      lateMs = Math.max(0, performance.now() - started - deadlineMs);
    }, deadlineMs);
    const elapsed = () => {
      const wall = performance.now() - started;
      return wall - (lateMs ?? Math.max(0, wall - deadlineMs));
    };
    try {
      const value = await router.resolve({ namespace: s.namespace, key: s.key });
      return { name: s.name, ok: true, correct: value.reveal() === s.expected, ms: elapsed() };
    } catch (error) {
      const code = isSecretsError(error) ? error.code : `untyped ${String(error)}`;
      return { name: s.name, ok: false, code, ms: elapsed() };
    } finally {
      clearTimeout(reference);
    }
  }),
);
await Promise.all([healthyRouter.close(), faultyRouter.close()]);
// Let pending rejections surface before reporting them.
await new Promise((resolve) => setImmediate(resolve));
process.stdout.write(
  `${JSON.stringify({ results, unhandled, resources: process.getActiveResourcesInfo() })}\n`,
);
