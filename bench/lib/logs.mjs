// Log text for the redaction case, generated from the seed: timestamps, levels, words, ids, JSON
// fragments, with a secret (in one of the forms programs log them) about every 1,000 lines.
import { int, pick, text } from "./seed.mjs";

const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "DEBUG", "WARN", "ERROR", "TRACE"];
const WORDS = (
  "request response started finished connecting connected retry timeout user order payment " +
  "invoice queue worker job task flow execution namespace tenant cache hit miss backend upstream " +
  "latency status ok failed accepted rejected token session header body bytes sent received"
).split(" ");
const HEX = "0123456789abcdef";

/** Forms a secret is written in: mostly as is, sometimes encoded the way programs log them. */
const FORMS = [
  (s) => s,
  (s) => s,
  (s) => s,
  (s) => JSON.stringify(s).slice(1, -1),
  (s) => Buffer.from(s).toString("base64"),
  (s) => encodeURIComponent(s),
];

/**
 * About `bytes` characters of log lines (ASCII, so characters are bytes). `secretFor(random)`
 * picks the secret to plant every ~1,000 lines. Returns the text and how many secrets it holds.
 */
export function logText(random, bytes, secretFor) {
  const lines = [];
  let size = 0;
  let planted = 0;
  let next = int(random, 500, 1500);
  let ms = Date.UTC(2024, 4, 1);
  for (let n = 0; size < bytes; n++) {
    ms += int(random, 0, 40);
    const ts = new Date(ms).toISOString();
    const level = pick(random, LEVELS);
    const worker = int(random, 0, 15);
    const words = Array.from({ length: int(random, 3, 12) }, () => pick(random, WORDS)).join(" ");
    let line = `${ts} ${level.padEnd(5)} [worker-${worker}] ${words} id=${text(random, 12, HEX)}`;
    if (random() < 0.3) {
      line += ` {"trace":"${text(random, 16, HEX)}","status":${int(random, 200, 504)},"ms":${int(random, 0, 3000)}}`;
    }
    if (n === next) {
      line += ` token=${pick(random, FORMS)(secretFor(random))}`;
      planted++;
      next += int(random, 500, 1500);
    }
    lines.push(line);
    size += line.length + 1;
  }
  return { text: `${lines.join("\n")}\n`, planted };
}
