// Case 4: prefetch. Rendering a template with 100 distinct secrets against moto (the AWS Secrets
// Manager emulator): render resolves every reference at once, so the AWS backend's batch read
// (BatchGetSecretValue, 20 ids a request) serves them; against a loop that resolves one reference
// at a time. What is counted is requests reaching Secrets Manager, not time.
import { createRouter } from "@keyway/core";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";
import { acquireServer } from "../lib/servers.mjs";

const NAME = "prefetch";
const COUNT = 100;
const NS = "company.team";

/** Why the case cannot run (the AWS backend missing or not built), or undefined. */
async function unavailable() {
  try {
    const aws = await import("@keyway/backend-aws");
    if (typeof aws.createAwsBackend !== "function") return "@keyway/backend-aws has no createAwsBackend";
  } catch (error) {
    return `@keyway/backend-aws cannot be imported (build it: npx turbo run build --filter=@keyway/backend-aws): ${error.message}`;
  }
  return undefined;
}

/** moto as the tests get it (installed first when it is not); or why it cannot be had. */
async function startMoto() {
  try {
    return { moto: await acquireServer("moto") };
  } catch (error) {
    return { why: `moto cannot be installed or started: ${error.message.split("\n")[0]}` };
  }
}

export async function run(results, { check }) {
  const missing = await unavailable();
  const { moto, why } = missing ? { why: missing } : await startMoto();
  if (why) {
    // Loud, and a failure under --check: a goal nobody measured is not met.
    console.error(`\n!!! bench: SKIPPING the prefetch case: ${why}\n`);
    results.skip(NAME, why);
    if (check) results.goal(NAME, "prefetch case ran", 0, "==", 1, "");
    return;
  }
  const { createAwsBackend } = await import("@keyway/backend-aws");
  const { SecretsManagerClient } = await import("@aws-sdk/client-secrets-manager");
  try {
    // One SDK client, injected, with a middleware counting every request by operation.
    const counts = {};
    const client = new SecretsManagerClient({
      region: "us-east-1",
      endpoint: moto.endpoint,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next, context) => (args) => {
        counts[context.commandName] = (counts[context.commandName] ?? 0) + 1;
        return next(args);
      },
      { step: "initialize", name: "keywayBenchCount" },
    );
    const requests = () => Object.values(counts).reduce((a, b) => a + b, 0);
    const prefix = `bench-${Date.now().toString(36)}`;
    const backend = () => createAwsBackend({ client, prefix });
    const routerOf = () =>
      createRouter({ backends: { aws: backend() }, rules: [{ match: "", backend: "aws" }] });

    const values = secrets(prng(), COUNT);
    const keys = values.map((_, i) => `BENCH_${i}`);
    const setup = routerOf();
    for (let i = 0; i < COUNT; i++) await setup.put({ namespace: NS, key: keys[i] }, values[i]);
    await setup.close();

    const template = keys.map((key) => `${key.toLowerCase()}: {{ secret('${key}') }}`).join("\n");
    const expected = keys.map((key, i) => `${key.toLowerCase()}: ${values[i]}`).join("\n");

    // A fresh router (cold cache) for each way, so each counts its own reads.
    const before = requests();
    const rendering = routerOf();
    const rendered = await rendering.render(template, { namespace: NS });
    const prefetch = requests() - before;
    await rendering.close();
    if (rendered !== expected) throw new Error(`${NAME}: the rendered template is wrong`);

    const beforeLoop = requests();
    const looping = routerOf();
    for (let i = 0; i < COUNT; i++) {
      const value = await looping.resolve({ namespace: NS, key: keys[i] });
      if (value.reveal() !== values[i]) throw new Error(`${NAME}: a resolve returned a wrong value`);
    }
    const loop = requests() - beforeLoop;
    await looping.close();

    results.row(NAME, `render, ${COUNT} distinct secrets`, `${prefetch} requests`, "BatchGetSecretValue");
    results.row(
      NAME,
      "resolve one reference at a time",
      `${loop} requests`,
      `${fmt(loop / prefetch)}× the render's`,
    );
    results.goal(NAME, `render of ${COUNT} secrets: ≤ 5 backend requests`, prefetch, "<=", 5, "");
    results.raw[NAME] = { prefetch, loop, counts };
  } finally {
    await moto.stop();
  }
}
