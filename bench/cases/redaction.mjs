// Case 3: redaction throughput. Keyway's redactor against modern-ahocorasick's replace (the same
// patterns), a naive replaceAll loop, and a one-pass loop that only reads every character: the
// floor any scanner has to pay. All on the same seeded log text, side by side in one process.
import { PassThrough, Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createRedactor, derivedForms } from "@keyway/core";
import AhoCorasick from "modern-ahocorasick";
import { logText } from "../lib/logs.mjs";
import { compare } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "redaction";
const MIB = 1024 * 1024;
const COUNTS = [1, 100, 1000, 10000];
const MASK = "******";
const CHUNK = 64 * 1024;

/** The patterns the redactor masks for `values`, by its policy (see createRedactor's options). */
function patternsOf(values, { minLength = 4, anywhereLength = 8 } = {}) {
  const patterns = new Set();
  for (const value of values) {
    const { plain, encoded } = derivedForms(value);
    // Secrets here are 12–64 characters, so every plain form is masked anywhere, like encoded ones.
    for (const form of plain) if (form.length >= minLength) patterns.add(form);
    for (const form of encoded) if (form.length >= anywhereLength) patterns.add(form);
  }
  return [...patterns];
}

/** A Transform that only decodes its Buffers to text, as the redacting stream must first. */
function decodingOnly() {
  const decoder = new StringDecoder("utf8");
  return new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, decoder.write(chunk));
    },
  });
}

/** Streams `text` through `transform` in `CHUNK`-byte Buffers; resolves with the output length. */
async function streamThrough(buffers, transform) {
  let length = 0;
  await pipeline(
    Readable.from(buffers, { objectMode: false }),
    transform,
    new Writable({
      decodeStrings: false,
      write(chunk, _encoding, callback) {
        length += chunk.length;
        callback();
      },
    }),
  );
  return length;
}

export async function run(results, { quick }) {
  const random = prng();
  const all = secrets(random, COUNTS.at(-1));
  // Half the planted secrets are the one registered at every count, so every count has matches.
  const size = (quick ? 4 : 32) * MIB;
  const generated = logText(random, size, (r) => (r() < 0.5 ? all[0] : all[Math.floor(r() * all.length)]));
  const planted = generated.planted;
  const bytes = Buffer.from(generated.text, "latin1"); // the text is ASCII
  // One flat string for every task: the generated one is a concatenation, which V8 reads through
  // an extra indirection after flattening it, at a speed that varied from run to run.
  const text = bytes.toString("latin1");
  const buffers = [];
  for (let i = 0; i < bytes.length; i += CHUNK) buffers.push(bytes.subarray(i, i + CHUNK));
  const small = text.slice(0, MIB);

  // The floor: a loop that reads every character and counts newlines.
  const onePass = () => {
    let lines = 0;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
    return lines;
  };

  const redactors = {};
  const matchers = {};
  const register = {};
  let mismatches = 0;
  for (const count of COUNTS) {
    const values = all.slice(0, count);
    const redactor = createRedactor();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) redactor.register(values[i], { key: `SECRET_${i}` });
    register[count] = performance.now() - t0;
    const matcher = new AhoCorasick(patternsOf(values));
    // Both must mask the same text the same way: a fast wrong answer is no answer.
    if (redactor.redact(text) !== matcher.replace(text, MASK)) mismatches++;
    redactors[count] = redactor;
    matchers[count] = { matcher, patterns: patternsOf(values) };
  }

  // Keyway against itself (counts, stream) and the one-pass loop: close ratios, so many rounds
  // with every task in each, and each ratio the median of its rounds.
  const own = { "one-pass loop": onePass };
  for (const count of COUNTS) own[`keyway ${count}`] = () => redactors[count].redact(text);
  own["keyway stream"] = () => streamThrough(buffers, redactors[1000].stream());
  // What any Transform over these chunks pays before it does anything: for the redactor's owner.
  own["stream plumbing only"] = () => streamThrough(buffers, new PassThrough());
  own["stream decoding only"] = () => streamThrough(buffers, decodingOnly());
  const keyway = await compare(own, { rounds: quick ? 3 : 9, time: 0, iterations: 2, warmup: 1 });

  // The alternatives are many times slower: two rounds of a few passes tell them apart.
  const aho = {};
  const naive = {};
  for (const count of COUNTS) {
    const { matcher, patterns } = matchers[count];
    const redactor = redactors[count];
    const vsAho = await compare(
      { keyway: () => redactor.redact(text), "modern-ahocorasick": () => matcher.replace(text, MASK) },
      { rounds: 2, time: 0, iterations: 2, warmup: 1 },
    );
    aho[count] = vsAho.ratio("modern-ahocorasick", "keyway");
    if (count <= 100) {
      // replaceAll per pattern: as slow as patterns × text, so only 1 MiB and up to 100 secrets.
      const vsNaive = await compare(
        {
          naive: () => {
            let out = small;
            for (const pattern of patterns) out = out.replaceAll(pattern, MASK);
            return out;
          },
          keyway: () => redactor.redact(small),
        },
        { rounds: 2, time: 0, iterations: 3, warmup: 1 },
      );
      naive[count] = vsNaive.ratio("naive", "keyway");
    }
  }

  const speedVsOnePass = (count) => keyway.ratio("one-pass loop", `keyway ${count}`);
  const streamOverWhole = keyway.ratio("keyway stream", "keyway 1000");
  const mb = size / MIB;
  results.row(NAME, "text", `${fmt(mb)} MiB of log lines, ${planted} secrets planted`);
  for (const count of COUNTS) {
    const label = `${count} secret${count > 1 ? "s" : ""}`;
    results.row(NAME, `${label}: keyway speed vs one-pass loop`, `${fmt(100 * speedVsOnePass(count))}%`);
    results.row(NAME, `${label}: modern-ahocorasick time / keyway time`, `${fmt(aho[count])}×`);
    if (naive[count] !== undefined)
      results.row(NAME, `${label}: naive replaceAll time / keyway time (1 MiB)`, `${fmt(naive[count])}×`);
  }
  results.row(NAME, "1000 secrets: stream time / whole-string time", `${fmt(streamOverWhole)}×`);
  results.row(
    NAME,
    "1000 secrets: a PassThrough instead (plumbing) / whole-string",
    `${fmt(keyway.ratio("stream plumbing only", "keyway 1000"))}×`,
  );
  results.row(
    NAME,
    "1000 secrets: a Transform that only decodes UTF-8 / whole-string",
    `${fmt(keyway.ratio("stream decoding only", "keyway 1000"))}×`,
  );
  results.row(
    NAME,
    "keyway and modern-ahocorasick outputs differ",
    `${mismatches} of ${COUNTS.length} counts`,
  );
  results.row(NAME, "register() of 1,000 secrets", `${fmt(register[1000])} ms`, "absolute, for the record");
  results.goal(NAME, "1,000 secrets: ≥ 5× modern-ahocorasick", aho[1000], ">=", 5);
  results.goal(NAME, "1,000 secrets: ≥ 50% of the one-pass loop", speedVsOnePass(1000), ">=", 0.5);
  results.goal(NAME, "1 → 1,000 secrets: ≤ 1.5× slower", keyway.ratio("keyway 1000", "keyway 1"), "<=", 1.5);
  results.goal(NAME, "stream (64 KiB chunks) ≥ 80% of whole-string speed", 1 / streamOverWhole, ">=", 0.8);
  results.goal(NAME, "same output as modern-ahocorasick", mismatches, "==", 0, "");
  results.raw[NAME] = {
    mib: mb,
    planted,
    keywayMs: Object.fromEntries(COUNTS.map((count) => [count, keyway.ns[`keyway ${count}`] / 1e6])),
    ahoOverKeyway: aho,
    naiveOverKeyway: naive,
    streamMs: keyway.ns["keyway stream"] / 1e6,
    onePassMs: keyway.ns["one-pass loop"] / 1e6,
    registerMs: register,
  };
}
