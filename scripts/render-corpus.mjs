// `node scripts/render-corpus.mjs` (after `npm run build`): for each kind of value that breaks text
// substitution, how many flows of test/fixtures/flows keep every property's exact value, rendered
// as text (`--format text`) and per property (`renderDocument`, the default for .yaml). "Exact"
// means: the output parses, and equals the file parsed first with each string rendered on its own,
// which is what Kestra does.
import { readdirSync, readFileSync } from "node:fs";
import { createMemoryBackend, createRouter, renderProperties, SecretValue } from "@keyway/core";
import { formatOf, renderDocument } from "@keyway/core/document";
import { parseAllDocuments } from "yaml";

const dir = new URL("../test/fixtures/flows/", import.meta.url);
const PEM =
  "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePz\n-----END RSA PRIVATE KEY-----\n";
const KINDS = {
  "double quote": 'pa"ss"w0rd',
  "PEM key": PEM,
  "JSON credential": JSON.stringify({ type: "service_account", private_key: PEM }, null, 2),
  backslash: "C:\\svc\\tok\\n",
};
const flows = readdirSync(dir).filter((name) => formatOf(name) === "yaml");

/** A router whose every key holds `value`. */
function routerHolding(value) {
  const backend = { ...createMemoryBackend(), get: async () => SecretValue.fromText(value) };
  return createRouter({ backends: { v: backend }, rules: [{ match: "", backend: "v" }] });
}

const parsedAs = (text) => {
  const documents = parseAllDocuments(text);
  return documents.every((d) => d.errors.length === 0)
    ? JSON.stringify(documents.map((d) => d.toJS()))
    : null;
};

console.log(`| value | text substitution | per property |\n|---|---|---|`);
for (const [kind, value] of Object.entries(KINDS)) {
  const router = routerHolding(value);
  let text = 0;
  let structured = 0;
  for (const name of flows) {
    const source = readFileSync(new URL(name, dir), "utf8");
    const kestra = await Promise.all(
      parseAllDocuments(source).map((d) => renderProperties(router, d.toJS(), { namespace: "x" })),
    );
    const expected = JSON.stringify(kestra);
    if (parsedAs(await router.render(source, { namespace: "x" })) === expected) text++;
    const rendered = await renderDocument(router, source, { namespace: "x", format: "yaml" });
    if (parsedAs(rendered.text) === expected) structured++;
  }
  console.log(`| ${kind} | ${text}/${flows.length} exact | ${structured}/${flows.length} exact |`);
}
