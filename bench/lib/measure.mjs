// Side-by-side timing with tinybench. Shared machines are noisy, so a figure is only ever a
// ratio of tasks measured in the same run, interleaved round by round: a slow spell of the
// machine slows every task of the round instead of one of them.
import { Bench } from "tinybench";

/**
 * Runs `tasks` ({ name: fn }) for `rounds` rounds, each a short tinybench run of every task, in a
 * different order each round. Returns `ns`, each task's time per operation in nanoseconds (the
 * median over rounds of tinybench's median latency, divided by `batch`, the operations one call of
 * fn performs, so sub-microsecond operations are not drowned by the timer's own cost), and
 * `ratio(a, b)`: the median over rounds of a's time over b's in the same round. Many short rounds
 * keep the two sides of a ratio close in time; the median drops the rounds a neighbour disturbed.
 * Tasks that take many milliseconds need few `iterations` (with `time: 0`) and little `warmup`.
 */
export async function compare(
  tasks,
  { rounds = 3, time = 300, batch = 1, iterations = 16, warmup = 4 } = {},
) {
  const perRound = Object.fromEntries(Object.keys(tasks).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({ time, iterations, warmupIterations: warmup, throws: true });
    const names = Object.keys(tasks);
    const shift = round % names.length;
    const order = [...names.slice(shift), ...names.slice(0, shift)];
    for (const name of round % 2 === 0 ? order : order.reverse()) bench.add(name, tasks[name]);
    await bench.run();
    for (const task of bench.tasks) {
      const result = task.result;
      if (!result || !("latency" in result)) throw new Error(`bench task ${task.name} did not complete`);
      perRound[task.name].push((result.latency.p50 * 1e6) / batch);
    }
  }
  return {
    ns: Object.fromEntries(Object.entries(perRound).map(([name, values]) => [name, median(values)])),
    ratio: (a, b) => median(perRound[a].map((value, round) => value / perRound[b][round])),
  };
}

/** The median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
