// Case: rendering grows linearly with the template (issue #18 point 9). The same shape at 160 KB
// and at 10× that (1.6 MB, the size that took 24 s when the search for `secret(` ran past each
// tag), timed side by side: 10× the input must take ≤ 12× the time. Shapes: many tags that are
// not secret() calls, many secret tags, unclosed tags, and a YAML flow rendered per property.
import { createMemoryBackend, createRouter } from "@keyway/core";
import { renderDocument } from "@keyway/core/document";
import { compare } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "render growth";
const GROWTH_LIMIT = 12;

/** Each shape: a unit repeated to the size, and how it is rendered. */
const SHAPES = [
  { name: "non-secret tags", unit: (i) => `line ${i}: {{ vars.x }}\n`, format: "text" },
  { name: "secret tags", unit: (i) => `token ${i}: {{ secret('KEY_${i % 50}') }}\n`, format: "text" },
  // Nothing closes (no secret at the end either): every `{{`, quote and `secret(` is left as is.
  { name: "unclosed tags", unit: (i) => `{{ '{% "${i} {{ secret(\n`, format: "text", unclosed: true },
  // The YAML parser and writer cost far more per byte than the scan: a tenth of the size.
  {
    name: "YAML flow",
    unit: (i) => `  - id: t${i}\n    run: "{{ vars.x }} {{ secret('KEY_${i % 50}') }}"\n`,
    format: "yaml",
    scale: 0.1,
  },
];

function build(shape, bytes) {
  const parts = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const unit = shape.unit(i);
    parts.push(unit);
    length += unit.length;
  }
  // One secret at the end: the old search for `secret(` ran from every tag to it.
  if (shape.unclosed) return parts.join("");
  return shape.format === "yaml"
    ? `tasks:\n${parts.join("")}  - last: "{{ secret('KEY_0') }}"\n`
    : `${parts.join("")}last: {{ secret('KEY_0') }}\n`;
}

export async function run(results, { quick }) {
  const random = prng();
  const values = secrets(random, 50);
  const initial = Object.fromEntries(values.map((value, i) => [`company.team/KEY_${i}`, value]));
  const router = createRouter({
    backends: { m: createMemoryBackend({ initial }) },
    rules: [{ match: "", backend: "m" }],
  });
  const small = quick ? 40_000 : 160_000;
  const options = { namespace: "company.team" };
  const raw = {};
  for (const shape of SHAPES) {
    const size = small * (shape.scale ?? 1);
    const texts = { small: build(shape, size), large: build(shape, size * 10) };
    const render = (text) =>
      shape.format === "text"
        ? router.render(text, options)
        : renderDocument(router, text, { ...options, format: shape.format });
    // Warm (and check) both: every secret resolved and cached, the code compiled.
    for (const text of Object.values(texts)) {
      const out = await render(text);
      const rendered = typeof out === "string" ? out : out.text;
      if (shape.unclosed ? rendered !== text : !rendered.includes(values[0]))
        throw new Error(`${NAME}: ${shape.name} did not render its secrets`);
    }
    const timing = await compare(
      { small: () => render(texts.small), large: () => render(texts.large) },
      // Many short rounds, each both sizes: the median ratio drops the rounds a neighbour disturbed.
      { rounds: quick ? 3 : 9, time: 0, iterations: 3, warmup: 1 },
    );
    const growth = timing.ratio("large", "small");
    raw[shape.name] = { ns: timing.ns, growth };
    results.row(
      NAME,
      `${shape.name}: ${fmt(texts.large.length / 1e3)} KB vs ${fmt(texts.small.length / 1e3)} KB`,
      `${fmt(growth)}×`,
      `${fmt(timing.ns.large / 1e6)} ms for the large one`,
    );
    results.goal(
      NAME,
      `${shape.name}: 10× the input ≤ ${GROWTH_LIMIT}× the time`,
      growth,
      "<=",
      GROWTH_LIMIT,
    );
  }
  results.raw[NAME] = raw;
  await router.close();
}
