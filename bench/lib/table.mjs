// The tables, as Markdown: readable in a terminal and pasted as-is into the README.
import { fmt } from "./results.mjs";

function markdown(header, lines) {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => String(l[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...lines.map(line)].join("\n");
}

/** What was measured, case by case. */
export function measurementsTable(results) {
  return markdown(
    ["case", "measurement", "value"],
    results.rows.map((r) => [r.case, r.name, r.note ? `${r.value} (${r.note})` : r.value]),
  );
}

/** Each goal with its measured ratio and whether it holds. */
export function goalsTable(results) {
  return markdown(
    ["case", "goal", "measured", "limit", "ok"],
    results.goals.map((g) => [
      g.case,
      g.goal,
      `${fmt(g.measured)}${g.unit}`,
      `${g.op} ${fmt(g.limit)}${g.unit}`,
      g.pass ? "yes" : "**MISS**",
    ]),
  );
}
