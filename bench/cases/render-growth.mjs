// Case: rendering grows linearly with the template (issue #18 point 9). The same shape at 400 KB
// and at 10× that (4 MB; the 1.6 MB took 24 s when the search for `secret(` ran past each
// tag), timed side by side: 10× the input must take ≤ 12× the (CPU) time. Shapes: many tags that are
// not secret() calls, many secret tags, unclosed tags, and a YAML flow rendered per property.
import { createMemoryBackend, createRouter } from "@keyway/core";
import { renderDocument } from "@keyway/core/document";
import { median } from "../lib/measure.mjs";
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
  // The YAML parser and writer cost far more per byte than the scan: a twentieth of the size.
  {
    name: "YAML flow",
    unit: (i) => `  - id: t${i}\n    run: "{{ vars.x }} {{ secret('KEY_${i % 50}') }}"\n`,
    format: "yaml",
    scale: 0.05,
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

/**
 * Times the large text once against the small one ten times in a row, so both sides render the
 * same number of bytes and meet the same garbage collection (a single small render often ends
 * before any collection, and made the ratio swing from 9× to 38× on the same code). Rounds
 * alternate the order. Time is the process's CPU time (`process.cpuUsage`, every thread, so the
 * collector's helpers count): on a machine shared with other jobs, wall time mostly measures the
 * wait for a core. The figure is the median of the rounds' ratios; wall time is shown beside it.
 */
async function growth(render, texts, rounds) {
  const sides = { small: { cpu: [], wall: [] }, large: { cpu: [], wall: [] } };
  const time = async (side, text, times) => {
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    for (let i = 0; i < times; i++) await render(text);
    const cpu = process.cpuUsage(cpu0);
    sides[side].cpu.push((cpu.user + cpu.system) / 1000 / times);
    sides[side].wall.push((performance.now() - wall0) / times);
  };
  const small = () => time("small", texts.small, 10);
  const large = () => time("large", texts.large, 1);
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? [small, large] : [large, small]) await side();
  }
  const ratios = (kind) => sides.large[kind].map((l, i) => l / sides.small[kind][i]);
  return {
    growth: median(ratios("cpu")),
    wall: median(ratios("wall")),
    largeMs: median(sides.large.cpu),
    smallMs: median(sides.small.cpu),
  };
}

export async function run(results, { quick }) {
  const random = prng();
  const values = secrets(random, 50);
  const initial = Object.fromEntries(values.map((value, i) => [`company.team/KEY_${i}`, value]));
  const router = createRouter({
    backends: { m: createMemoryBackend({ initial }) },
    rules: [{ match: "", backend: "m" }],
  });
  // Not smaller: a 160 KB render's objects die young, a 1.6 MB one's (45k tags, about 330 bytes
  // each) are copied out of the young generation, so 160 KB → 1.6 MB measured 12–14× for secret
  // tags with a scan that counts linear work (packages/core/test/template-linear.test.ts); from
  // 400 KB up both sides pay the same collector.
  const small = quick ? 40_000 : 400_000;
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
    const timing = await growth(render, texts, quick ? 5 : 9);
    raw[shape.name] = timing;
    results.row(
      NAME,
      `${shape.name}: ${fmt(texts.large.length / 1e3)} KB vs ${fmt(texts.small.length / 1e3)} KB`,
      `${fmt(timing.growth)}×`,
      `CPU time, median of ${quick ? 5 : 9} rounds (wall time ${fmt(timing.wall)}×); ${fmt(timing.largeMs)} ms CPU for the large one`,
    );
    results.goal(
      NAME,
      `${shape.name}: 10× the input ≤ ${GROWTH_LIMIT}× the time`,
      timing.growth,
      "<=",
      GROWTH_LIMIT,
    );
  }
  results.raw[NAME] = raw;
  await router.close();
}
