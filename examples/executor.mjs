// How a workflow executor embeds Keyway: its logger masks every secret Keyway resolved (pino
// through the redactor's hooks), a flow it has already parsed gets its tasks' properties rendered
// (`renderProperties`), and a rotated secret is noticed (`router.watch`), read again and masked
// too. Run it after `npm run build`: `node examples/executor.mjs`. It prints pino's JSON lines.
// EXAMPLE_DB_PASSWORD, EXAMPLE_DB_PASSWORD_ROTATED and EXAMPLE_WEBHOOK replace the sample values
// (the test in test/meta/examples.test.ts passes hostile ones).
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { createEnvBackend } from "@keyway/backend-env";
import { createMemoryBackend, createRouter, pinoRedactionHooks, renderProperties } from "@keyway/core";
import { CHANNELS } from "@keyway/core/otel";
import pino from "pino";
import { parse } from "yaml";

const given = process.env; // the example's inputs, not Keyway's configuration
const password = given.EXAMPLE_DB_PASSWORD ?? "pg-7f3a9c1e-etl";
const rotated = given.EXAMPLE_DB_PASSWORD_ROTATED ?? "pg-b82d04aa-etl";
const webhook = given.EXAMPLE_WEBHOOK ?? "https://hooks.example.test/services/T0001/B0002/x9y8z7";
const dbSecret = (pass) => JSON.stringify({ user: "etl_loader", password: pass });

// Two backends: Kestra-style SECRET_ variables at the root, a writable store for company.team
// (in production: Vault, AWS, … from keyway.yaml through loadRouter()).
const team = createMemoryBackend({ name: "team", initial: { "company.team/DB": dbSecret(password) } });
const router = createRouter({
  backends: {
    env: createEnvBackend({ env: { SECRET_SLACK_WEBHOOK: Buffer.from(webhook).toString("base64") } }),
    team,
  },
  rules: [
    { match: "", backend: "env" },
    { match: "company.team", backend: "team" },
  ],
  cache: { ttlMs: 300_000 },
});
await router.prepare(); // at start-up: a backend that cannot work fails here, not mid-flow

// Every line the executor logs goes through the redactor: each value resolved so far (and its
// JSON-, URL- and base64-encoded forms) is masked, whatever the field it ends up in.
const logger = pino(
  { base: undefined, timestamp: false, hooks: pinoRedactionHooks(router.redactor) },
  pino.destination({ dest: 1, sync: true }),
);

// A flow the executor has already parsed: each string property is rendered on its own, as Kestra
// renders a task's properties, so quotes or backslashes in a value never break the structure.
const flow = parse(`
id: nightly-export
namespace: company.team.etl
tasks:
  - id: extract
    type: io.kestra.plugin.jdbc.postgresql.Query
    url: jdbc:postgresql://db:5432/warehouse
    username: "{{ secret('DB', subkey='user') }}"
    password: "{{ secret('DB', subkey='password') }}"
  - id: notify
    type: io.kestra.plugin.notifications.slack.SlackIncomingWebhook
    url: "{{ secret('SLACK_WEBHOOK') }}"
    payload: '{"text": "{{ flow.id }} done"}'
`);
// This executor uses the rendered properties as they are: no template engine reads them afterwards,
// so a value holding `{{` is data (allowTemplateSyntax). An executor whose engine renders the
// properties next must leave it off (mode final then refuses such a value) or use mode pebble/jinja.
const renderTask = (task) =>
  renderProperties(router, task, { namespace: flow.namespace, allowTemplateSyntax: true });

const extract = await renderTask(flow.tasks[0]);
const notify = await renderTask(flow.tasks[1]);
// The executor hands `extract` and `notify` (real values) to its tasks; its own logs stay masked.
logger.info({ task: extract }, "task extract starts");
logger.info(`connecting to postgresql://${extract.username}:${encodeURIComponent(extract.password)}@db:5432`);
logger.info({ task: notify }, "task notify starts"); // {{ flow.id }} is the engine's, left as is

// Rotation: watch the secret the running task uses. The listener gets versions, never values;
// by the time it runs the cached value is gone, so the next render reads the new one.
const ref = { namespace: flow.namespace, key: "DB" };
const baseline = firstProbe(ref);
const changes = router.watch(ref, { intervalMs: 50 });
await baseline; // only so this demo rotates after the watch's first look
await team.put?.({ namespace: "company.team", key: "DB" }, dbSecret(rotated)); // e.g. by a rotation lambda
for await (const change of changes) {
  logger.info({ change }, "DB rotated: re-rendering the task");
  break; // one change is enough here; an executor keeps iterating until shutdown
}
const restarted = await renderTask(flow.tasks[0]);
logger.info({ task: restarted }, "task extract restarts with the new password");
logger.info(`old ${extract.password}, new ${restarted.password}: both stay masked`);

const { hits, misses, backendCalls } = router.stats();
logger.info({ hits, misses, backendCalls }, "done");
await router.close(); // ends the watch too

/** Resolves once a watch has probed the level that holds `ref`: Keyway publishes every backend call. */
function firstProbe(watched) {
  return new Promise((resolve) => {
    const onCall = (event) => {
      if (event.operation !== "probeVersion" || event.backend !== "team" || event.outcome !== "ok") return;
      if (!event.refs.some((r) => r.key === watched.key)) return;
      unsubscribe(CHANNELS.backend, onCall);
      resolve();
    };
    subscribe(CHANNELS.backend, onCall);
  });
}
