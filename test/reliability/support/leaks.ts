// Looking for secrets where they must never be: every printable form of an error (message,
// stack, cause chain, String, util.inspect with hidden fields, JSON), and everything written to
// the console, stdout, stderr, warnings and the telemetry channels while a call ran.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { inspect } from "node:util";
import { CHANNELS } from "@keyway/core/otel";
import { expect } from "vitest";
import { count } from "./stats.js";

/** The forms a secret takes in text: as is, base64 (padding off), URL- and JSON-escaped, byte list. */
export function secretForms(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [
    ...new Set([
      secret,
      bytes.toString("base64").replace(/=+$/, ""),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
      [...bytes].join(","), // a Buffer in JSON: {"type":"Buffer","data":[…]}
      [...bytes].map((b, i) => `"${i}":${b}`).join(","), // a Uint8Array in JSON: {"0":…,"1":…}
    ]),
  ].filter((form) => form.length >= 8);
}

/** Every printable form of `thing`, following causes, nested errors and failures. */
export function printable(thing: unknown, seen = new Set<unknown>()): string {
  if (seen.has(thing)) return "";
  seen.add(thing);
  const parts: string[] = [];
  const safe = (f: () => string) => {
    try {
      parts.push(f());
    } catch {
      // a form that cannot be produced shows nothing
    }
  };
  safe(() => String(thing));
  safe(() => JSON.stringify(thing) ?? "");
  safe(() => inspect(thing, { showHidden: true, depth: 10, getters: true }));
  if (thing instanceof Error) {
    parts.push(thing.message, thing.stack ?? "");
    parts.push(printable(thing.cause, seen));
    const record = thing as unknown as { errors?: unknown[]; failures?: Array<{ error: unknown }> };
    for (const inner of record.errors ?? []) parts.push(printable(inner, seen));
    for (const failure of record.failures ?? []) parts.push(printable(failure.error, seen));
  }
  return parts.join("\n");
}

/** Fails (and counts a leak) if any form of any of `secrets` shows in `thing`. */
export function expectNoLeak(thing: unknown, secrets: readonly string[], where: string): void {
  count("leakChecks");
  const text = typeof thing === "string" ? thing : printable(thing);
  const found = secrets.flatMap((s) =>
    secretForms(s)
      .filter((form) => text.includes(form))
      .map(() => s),
  );
  if (found.length) count("leaksFound");
  expect([...new Set(found)], `${where}: a secret shows in\n${text.slice(0, 2000)}`).toEqual([]);
}

/**
 * Runs `body` with the console, stdout, stderr, process warnings and Keyway's telemetry channels
 * captured; returns what `body` returned (or threw) and everything written meanwhile.
 */
export async function capturing<T>(body: () => Promise<T>): Promise<{ outcome: T | unknown; logs: string }> {
  const chunks: string[] = [];
  const keep = (...args: unknown[]) => {
    chunks.push(args.map((a) => (typeof a === "string" ? a : inspect(a, { depth: 6 }))).join(" "));
  };
  const saved = {
    log: console.log,
    info: console.info,
    warn: console.warn,
    error: console.error,
    debug: console.debug,
    stdout: process.stdout.write,
    stderr: process.stderr.write,
    emitWarning: process.emitWarning,
  };
  const onEvent = (event: unknown) => keep(event);
  for (const name of Object.values(CHANNELS)) subscribe(name, onEvent);
  console.log = keep;
  console.info = keep;
  console.warn = keep;
  console.error = keep;
  console.debug = keep;
  const writer = (chunk: unknown) => {
    chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return true;
  };
  process.stdout.write = writer as typeof process.stdout.write;
  process.stderr.write = writer as typeof process.stderr.write;
  process.emitWarning = ((warning: string | Error) => keep(warning)) as typeof process.emitWarning;
  let outcome: T | unknown;
  try {
    outcome = await body();
  } catch (error) {
    outcome = error;
  } finally {
    Object.assign(console, {
      log: saved.log,
      info: saved.info,
      warn: saved.warn,
      error: saved.error,
      debug: saved.debug,
    });
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
    process.emitWarning = saved.emitWarning;
    for (const name of Object.values(CHANNELS)) unsubscribe(name, onEvent);
  }
  return { outcome, logs: chunks.join("\n") };
}
