// Case: watching for rotation (router.watch, issue #15). N watchers spread over 10 keys (N/10
// each), each asking for a probe every I ms; the backend counts the probes it gets per key. The
// goal is one probe per key per interval whatever N (watches of a key share one poll): probes per
// key per interval at the largest N against one watcher per key. Jitter shortens each wait by up to 20% (mean 10%),
// so the expected figure is about 1.1 per key per interval, for every N. Then one rotation of
// every key: each watcher must hear it exactly once, and no value may be fetched.
import { createRouter, SecretNotFoundError } from "@keyway/core";
import { READ_ONLY } from "../lib/backends.mjs";
import { fmt } from "../lib/results.mjs";

const NAME = "watch";
const KEYS = 10;
const INTERVAL_MS = 50;

/** A backend with probeVersion whose versions the case sets, counting probes and gets. */
function versionedBackend() {
  const versions = new Map(Array.from({ length: KEYS }, (_, k) => [`K${k}`, 1]));
  const backend = {
    name: "watched",
    capabilities: READ_ONLY,
    probes: 0,
    gets: 0,
    async get(ref) {
      backend.gets++;
      throw new SecretNotFoundError(ref.key, { backend: "watched" });
    },
    async probeVersion(ref) {
      backend.probes++;
      const version = versions.get(ref.key);
      if (version === undefined) throw new SecretNotFoundError(ref.key, { backend: "watched" });
      return String(version);
    },
    rotateAll() {
      for (const [key, version] of versions) versions.set(key, version + 1);
    },
  };
  return backend;
}

/** Probes per key per interval with `watchers` watches over the keys, over `intervals` intervals. */
async function measure(watchers, intervals) {
  const backend = versionedBackend();
  const router = createRouter({ backends: { b: backend }, rules: [{ match: "", backend: "b" }] });
  let heard = 0;
  const watches = Array.from({ length: watchers }, (_, w) =>
    router.watch({ namespace: "bench", key: `K${w % KEYS}` }, () => heard++, { intervalMs: INTERVAL_MS }),
  );
  // The baseline round first, then count from a clean start.
  while (backend.probes < KEYS) await new Promise((r) => setTimeout(r, 1));
  const from = backend.probes;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, intervals * INTERVAL_MS));
  const elapsed = performance.now() - started;
  const probes = backend.probes - from;
  backend.rotateAll();
  const before = backend.probes;
  while (heard < watchers && backend.probes < before + KEYS * 20) await new Promise((r) => setTimeout(r, 5));
  for (const watch of watches) watch.close();
  await router.close();
  return { perKeyPerInterval: probes / KEYS / (elapsed / INTERVAL_MS), heard, gets: backend.gets, probes };
}

export async function run(results, { quick }) {
  const sizes = quick ? [KEYS, 1000] : [KEYS, 100, 1000, 10_000];
  const intervals = quick ? 10 : 40;
  const measured = [];
  for (const watchers of sizes) measured.push({ watchers, ...(await measure(watchers, intervals)) });
  for (const m of measured)
    results.row(
      NAME,
      `${m.watchers} watchers of ${KEYS} keys, interval ${INTERVAL_MS} ms`,
      `${fmt(m.perKeyPerInterval)} probes per key per interval`,
      `${m.heard}/${m.watchers} heard the rotation, ${m.gets} values fetched`,
    );
  const one = measured[0];
  const most = measured.at(-1);
  results.goal(
    NAME,
    `probes per key per interval, ${most.watchers / KEYS} watchers per key / 1 ≤ 1.1`,
    most.perKeyPerInterval / one.perKeyPerInterval,
    "<=",
    1.1,
  );
  results.goal(
    NAME,
    `probes per key per interval with ${most.watchers} watchers ≤ 1.25 (the jitter's bound)`,
    most.perKeyPerInterval,
    "<=",
    1.25,
  );
  results.goal(
    NAME,
    "every watcher heard the rotation once, no value fetched",
    measured.every((m) => m.heard === m.watchers && m.gets === 0) ? 1 : 0,
    "==",
    1,
    "",
  );
  results.raw[NAME] = { keys: KEYS, intervalMs: INTERVAL_MS, intervals, measured };
}
