// Case 3: redaction throughput. Keyway's redactor against modern-ahocorasick's replace (the same
// patterns), a naive replaceAll loop, and a one-pass loop that only reads every character: the
// floor any scanner has to pay. All on the same seeded log text, side by side in one process.
import { PassThrough, Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createRedactor, derivedForms } from "@keyway/core";
import AhoCorasick from "modern-ahocorasick";
import { Bench } from "tinybench";
import { logText } from "../lib/logs.mjs";
import { median } from "../lib/measure.mjs";
import { fmt } from "../lib/results.mjs";
import { prng, secrets } from "../lib/seed.mjs";

const NAME = "redaction";
const MIB = 1024 * 1024;
const COUNTS = [1, 100, 1000, 10000];
const MASK = "******";
const CHUNK = 64 * 1024;

/**
 * Milliseconds per call of each task ({ name: fn }), tinybench's median. Passes over megabytes are
 * long enough to time one by one, so a few iterations suffice; rounds alternate the order.
 */
async function time(tasks, iterations) {
  const perRound = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < 2; round++) {
    const bench = new Bench({ time: 0, iterations, warmupIterations: 1, throws: true });
    const names = Object.keys(tasks);
    for (const name of round === 0 ? names : [...names].reverse()) bench.add(name, tasks[name]);
    await bench.run();
    for (const task of bench.tasks) perRound[task.name].push(task.result.latency.p50);
  }
  return Object.fromEntries(Object.entries(perRound).map(([name, values]) => [name, median(values)]));
}

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
  const { text, planted } = logText(random, size, (r) =>
    r() < 0.5 ? all[0] : all[Math.floor(r() * all.length)],
  );
  const buffers = [];
  const bytes = Buffer.from(text, "latin1"); // the text is ASCII
  for (let i = 0; i < bytes.length; i += CHUNK) buffers.push(bytes.subarray(i, i + CHUNK));
  const small = text.slice(0, MIB);
  const iterations = quick ? 3 : 2;

  // The floor: a loop that reads every character and counts newlines.
  const onePass = () => {
    let lines = 0;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
    return lines;
  };

  const keyway = {};
  const aho = {};
  const naive = {};
  const register = {};
  let mismatches = 0;
  let streamMs;
  let plumbingMs;
  let decodingMs;
  let wholeMs;
  let onePassMs;
  for (const count of COUNTS) {
    const values = all.slice(0, count);
    const redactor = createRedactor();
    const t0 = performance.now();
    for (let i = 0; i < count; i++) redactor.register(values[i], { key: `SECRET_${i}` });
    register[count] = performance.now() - t0;
    const patterns = patternsOf(values);
    const matcher = new AhoCorasick(patterns);
    // Both must mask the same text the same way: a fast wrong answer is no answer.
    const expected = matcher.replace(text, MASK);
    if (redactor.redact(text) !== expected) mismatches++;

    const tasks = {
      keyway: () => redactor.redact(text),
      "modern-ahocorasick": () => matcher.replace(text, MASK),
      "one-pass loop": onePass,
    };
    if (count === 1000) {
      tasks["keyway stream"] = () => streamThrough(buffers, redactor.stream());
      // What any Transform over these chunks pays before it does anything: for the redactor's owner.
      tasks["stream plumbing only"] = () => streamThrough(buffers, new PassThrough());
      tasks["stream decoding only"] = () => streamThrough(buffers, decodingOnly());
    }
    const ms = await time(tasks, iterations);
    keyway[count] = ms.keyway;
    aho[count] = ms["modern-ahocorasick"];
    if (count === 1000) {
      streamMs = ms["keyway stream"];
      plumbingMs = ms["stream plumbing only"];
      decodingMs = ms["stream decoding only"];
      wholeMs = ms.keyway;
      onePassMs = ms["one-pass loop"];
    }
    if (count <= 100) {
      // replaceAll per pattern: as slow as patterns × text, so only 1 MiB and up to 100 secrets.
      const naiveMs = await time(
        {
          naive: () => {
            let out = small;
            for (const pattern of patterns) out = out.replaceAll(pattern, MASK);
            return out;
          },
          keyway: () => redactor.redact(small),
        },
        iterations,
      );
      naive[count] = naiveMs.naive / naiveMs.keyway;
    }
  }

  const mb = size / MIB;
  results.row(NAME, "text", `${fmt(mb)} MiB of log lines, ${planted} secrets planted`);
  for (const count of COUNTS) {
    results.row(
      NAME,
      `${count} secret${count > 1 ? "s" : ""}: keyway speed vs one-pass loop`,
      `${fmt((100 * onePassMs) / keyway[count])}%`,
    );
    results.row(
      NAME,
      `${count} secret${count > 1 ? "s" : ""}: modern-ahocorasick time / keyway time`,
      `${fmt(aho[count] / keyway[count])}×`,
    );
    if (naive[count] !== undefined)
      results.row(
        NAME,
        `${count} secret${count > 1 ? "s" : ""}: naive replaceAll time / keyway time (1 MiB)`,
        `${fmt(naive[count])}×`,
      );
  }
  results.row(NAME, "1000 secrets: stream time / whole-string time", `${fmt(streamMs / wholeMs)}×`);
  results.row(
    NAME,
    "1000 secrets: a PassThrough instead (plumbing) / whole-string",
    `${fmt(plumbingMs / wholeMs)}×`,
  );
  results.row(
    NAME,
    "1000 secrets: a Transform that only decodes UTF-8 / whole-string",
    `${fmt(decodingMs / wholeMs)}×`,
  );
  results.row(
    NAME,
    "keyway and modern-ahocorasick outputs differ",
    `${mismatches} of ${COUNTS.length} counts`,
  );
  results.row(NAME, "register() of 1,000 secrets", `${fmt(register[1000])} ms`, "absolute, for the record");
  results.goal(NAME, "1,000 secrets: ≥ 5× modern-ahocorasick", aho[1000] / keyway[1000], ">=", 5);
  results.goal(NAME, "1,000 secrets: ≥ 50% of the one-pass loop", onePassMs / keyway[1000], ">=", 0.5);
  results.goal(NAME, "1 → 1,000 secrets: ≤ 1.5× slower", keyway[1000] / keyway[1], "<=", 1.5);
  results.goal(NAME, "stream (64 KiB chunks) ≥ 80% of whole-string speed", wholeMs / streamMs, ">=", 0.8);
  results.goal(NAME, "same output as modern-ahocorasick", mismatches, "==", 0, "");
  results.raw[NAME] = {
    mib: mb,
    planted,
    keywayMs: keyway,
    ahoMs: aho,
    naiveOverKeyway: naive,
    streamMs,
    wholeMs,
    onePassMs,
    registerMs: register,
  };
}
