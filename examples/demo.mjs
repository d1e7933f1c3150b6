// The Keyway demo: one flow, secrets from two namespaces served by two backends, rendered with
// inheritance, and a log line masked by the redactor. Run with `npm run demo`.
import { readFile } from "node:fs/promises";
import { loadRouter } from "@keyway/core/config";
import { renderDocument } from "@keyway/core/document";

const here = (file) => new URL(file, import.meta.url).pathname;
const b64 = (text) => Buffer.from(text).toString("base64");

// Kestra's open-source secrets: SECRET_<KEY> environment variables holding base64.
const env = {
  ...process.env,
  SECRET_AWS_ACCESS_KEY_ID: b64("AKIAKEYWAYDEMO000001"),
  SECRET_SLACK_WEBHOOK: b64("https://hooks.example.test/company-wide-webhook"),
};

const router = await loadRouter({ path: here("keyway.yaml"), env });
const flow = await readFile(here("flow.yaml"), "utf8");

console.log("── examples/flow.yaml, rendered for namespace company.team.etl ──");
// Parsed as YAML and rendered per property, as Kestra does: a value with quotes or several lines
// is written back in a style that holds it exactly; comments and everything else stay as written.
const rendered = await renderDocument(router, flow, { namespace: "company.team.etl", format: "yaml" });
console.log(rendered.text);

console.log("── where each secret came from (keyway check) ──");
const keys = new Set(router.references(flow).map((ref) => ref.key));
for (const key of keys) {
  const where = await router.explain({ key, namespace: "company.team.etl" });
  console.log(
    `${key.padEnd(18)} ${where.status} in '${where.namespace || "<root>"}' (backend ${where.backend})`,
  );
}

console.log("\n── a task's log line, through the redactor ──");
const password = (
  await router.resolve({ namespace: "company.team.etl", key: "DB" }, { subkey: "password" })
).reveal();
const line = `connecting as etl_loader with password=${password} (base64 ${b64(password)}), webhook ${encodeURIComponent("https://hooks.example.test/team-only-webhook")}`;
console.log(router.redactor.redact(line));

const { hits, misses, backendCalls } = router.stats();
console.log(`\ncache: ${hits} hits, ${misses} misses, ${backendCalls} backend calls`);
await router.close();
