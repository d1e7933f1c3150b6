/**
 * A strict `.env` reader with the semantics of `dotenv.parse` (npm `dotenv`): comments, blank
 * lines, `export `, single quotes literal, double quotes with `\n` / `\r` escapes, backticks,
 * inline `#` comments after unquoted values, multi-line quoted values, `=` inside values, a last
 * line without newline, CRLF. Unlike `dotenv.parse`, a line that does not parse, or a key
 * outside Keyway's key grammar, is an error with its line number: nothing is silently dropped.
 */
import { isValidKey } from "@keyway/core/backend";

export interface DotenvEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export interface DotenvProblem {
  readonly line: number;
  readonly message: string;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*|:\s+)/;

export function parseDotenv(source: string): { entries: DotenvEntry[]; problems: DotenvProblem[] } {
  const lines = source.replace(/\r\n?/g, "\n").split("\n");
  const entries: DotenvEntry[] = [];
  const problems: DotenvProblem[] = [];
  const firstLine = new Map<string, number>();
  for (let i = 0; i < lines.length; i++) {
    const lineNumber = i + 1;
    const line = lines[i] ?? "";
    if (/^\s*(#.*)?$/.test(line)) continue;
    const assignment = ASSIGNMENT.exec(line);
    if (!assignment) {
      problems.push({ line: lineNumber, message: "not a KEY=value assignment" });
      continue;
    }
    const key = assignment[1] ?? "";
    let rest = line.slice(assignment[0].length);
    let value: string;
    const quote = /^\s*(['"`])/.exec(rest)?.[1];
    if (quote) {
      rest = rest.trimStart();
      // A quoted value may span lines until the closing quote, as dotenv allows.
      let end = closingQuote(rest, quote);
      let j = i;
      while (end === -1 && j + 1 < lines.length) {
        j++;
        rest += `\n${lines[j]}`;
        end = closingQuote(rest, quote);
      }
      if (end === -1) {
        problems.push({ line: lineNumber, message: `the ${quote} quote is never closed` });
        break;
      }
      const after = rest.slice(end + 1);
      if (!/^\s*(#.*)?$/.test(after)) {
        problems.push({ line: j + 1, message: "unexpected text after the closing quote" });
        i = j;
        continue;
      }
      value = rest.slice(1, end);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r");
      i = j;
    } else {
      value = (rest.split("#")[0] ?? "").trim();
    }
    if (!isValidKey(key)) {
      problems.push({
        line: lineNumber,
        message: `key '${(assignment[1] ?? "").slice(0, 64)}' is not valid: use A-Z a-z 0-9 _ -`,
      });
      continue;
    }
    const upper = key.toUpperCase();
    const earlier = firstLine.get(upper);
    if (earlier !== undefined) {
      problems.push({
        line: lineNumber,
        message: `key '${key}' is already set on line ${earlier} (keys are case-insensitive)`,
      });
      continue;
    }
    firstLine.set(upper, lineNumber);
    entries.push({ key, value, line: lineNumber });
  }
  return { entries, problems };
}

/** Offset of the quote that closes `text[0]`, skipping backslash-escaped quotes; -1 if none. */
function closingQuote(text: string, quote: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\" && text[i + 1] === quote) i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}
