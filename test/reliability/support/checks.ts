// The checks every test shares, each feeding the report's counters: a value is exactly the one
// stored, a promise settles by its deadline, no unhandled rejection happens, nothing leaks.
import { inspect } from "node:util";
import type { SecretValue } from "@keyway/core";
import { afterAll, beforeAll, expect } from "vitest";
import { count } from "./stats.js";

/** How late past its deadline a resolve may settle (timers on 2 busy cores are not exact). */
export const SLACK_MS = 300;

/** Fails (and counts a wrong value) unless `value` is exactly `expected`. */
export function expectValue(value: SecretValue, expected: string, what = "value"): void {
  count("resolvesChecked");
  const actual = value.reveal();
  if (actual !== expected) count("wrongValues");
  expect(actual === expected, `${what}: a wrong value was returned`).toBe(true);
}

export type Settled<T> =
  | { ok: true; value: T; ms: number }
  | { ok: false; error: unknown; ms: number }
  | { hung: true; ms: number };

/**
 * Waits for `promise` at most `deadlineMs + SLACK_MS` (the wait itself never keeps the process up)
 * and tells how it settled and when; a promise still pending then counts as a hang.
 *
 * `ms` is measured on this process's timers, not the wall clock: a plain timer for `deadlineMs`,
 * set at the start, shows how late timers fire here (on a busy machine, hundreds of ms), and that
 * lateness is not counted against the deadline (trust issue #20 point 9). The resolve's own
 * deadline timer is late by as much; a resolve that outlives its deadline for any other reason
 * (waiting on the network past it) still fails, since the reference timer is not late then.
 */
export async function settle<T>(promise: Promise<T>, deadlineMs: number): Promise<Settled<T>> {
  const started = performance.now();
  let lateMs: number | undefined;
  const reference = setTimeout(() => {
    lateMs = Math.max(0, performance.now() - started - deadlineMs);
  }, deadlineMs);
  reference.unref();
  const elapsed = () => {
    const wall = performance.now() - started;
    // Past the deadline but the reference has not run yet: this is the turn in which the
    // deadline's timers fire (the resolve's own came first), so it settled on time.
    return wall - (lateMs ?? Math.max(0, wall - deadlineMs));
  };
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<{ hung: true; ms: number }>((resolve) => {
    timer = setTimeout(() => resolve({ hung: true, ms: elapsed() }), deadlineMs + SLACK_MS);
  });
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ ok: true as const, value, ms: elapsed() }),
      (error: unknown) => ({ ok: false as const, error, ms: elapsed() }),
    ),
    limit,
  ]);
  clearTimeout(timer);
  clearTimeout(reference);
  if ("hung" in outcome) count("hangs");
  return outcome;
}

/** Settles by the deadline (else fails as a hang) and returns the outcome. */
export async function settled<T>(
  promise: Promise<T>,
  deadlineMs: number,
): Promise<Exclude<Settled<T>, { hung: true }>> {
  const outcome = await settle(promise, deadlineMs);
  if ("hung" in outcome) {
    expect.fail(
      `did not settle within ${deadlineMs} ms + ${SLACK_MS} ms slack (waited ${Math.round(outcome.ms)} ms)`,
    );
  }
  return outcome as Exclude<Settled<T>, { hung: true }>;
}

/** The rejection of an outcome that must have failed. */
export function failure(outcome: Exclude<Settled<unknown>, { hung: true }>): unknown {
  if (outcome.ok) expect.fail("resolved, but a typed error was expected");
  return (outcome as { error: unknown }).error;
}

/**
 * Registers a process-wide `unhandledRejection` listener for the file; `assertNoUnhandled()` (called
 * by tests, and once more after the last one) fails if any was seen.
 */
export function watchUnhandledRejections(): { assertNoUnhandled(): Promise<void>; seen: unknown[] } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => {
    seen.push(reason);
    count("unhandledRejections");
  };
  beforeAll(() => {
    process.on("unhandledRejection", listener);
  });
  const assertNoUnhandled = async () => {
    // Node reports a rejection left unhandled once the microtasks of its turn have run: one turn
    // of the event loop (setImmediate) lets every one so far be seen, however busy the machine.
    await new Promise((r) => setImmediate(r));
    expect(seen.map((r) => inspect(r, { depth: 2 }))).toEqual([]);
  };
  afterAll(async () => {
    await assertNoUnhandled();
    process.off("unhandledRejection", listener);
  });
  return { assertNoUnhandled, seen };
}
