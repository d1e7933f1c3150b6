// One place that collects what each case measured: rows for the table, goals for `--check`,
// and the JSON written to bench/results.json.

export class Results {
  /** @type {Array<{ case: string, name: string, value: string, note?: string }>} */
  rows = [];
  /** @type {Array<{ case: string, goal: string, measured: number, limit: number, op: "<=" | "<" | ">=" | "==", pass: boolean, unit: string }>} */
  goals = [];
  /** @type {Array<{ case: string, reason: string }>} */
  skipped = [];
  /** Raw numbers per case, for results.json. */
  raw = {};

  /** A line of the table: what was measured, as text (a ratio, a count, a throughput). */
  row(caseName, name, value, note) {
    this.rows.push({ case: caseName, name, value, ...(note ? { note } : {}) });
  }

  /** A goal: `measured op limit` must hold. Returns whether it does. */
  goal(caseName, goal, measured, op, limit, unit = "×") {
    const pass =
      op === "<="
        ? measured <= limit
        : op === "<"
          ? measured < limit
          : op === ">="
            ? measured >= limit
            : measured === limit;
    this.goals.push({ case: caseName, goal, measured, limit, op, pass, unit });
    return pass;
  }

  skip(caseName, reason) {
    this.skipped.push({ case: caseName, reason });
  }

  get failed() {
    return this.goals.filter((g) => !g.pass);
  }
}

/** Rounds for display: 3 significant digits, no exponent for ordinary sizes. */
export function fmt(n, digits = 3) {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n) && Math.abs(n) < 1e7) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return n.toFixed(0);
  return Number(n.toPrecision(digits)).toString();
}
