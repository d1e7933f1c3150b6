/**
 * `KEYWAY_DEBUG=1`: the failing error's stack and its causes, through the invocation's redactor
 * with every value Keyway holds registered (held.ts), since a stack quotes whatever the code that
 * threw put in its message (Node's spawn errors quote the environment, SDKs their requests).
 * Loaded only when there is something to print.
 */

import type { CliIO } from "./cli-io.js";
import { sessionOf } from "./context.js";
import { heldVariables, registerEnvSecrets, registerHeld } from "./held.js";

const MAX_CAUSES = 5;

export async function debugText(io: CliIO, error: Error): Promise<string> {
  const session = sessionOf(io);
  registerEnvSecrets(session.redactor, io.env);
  try {
    registerHeld(session.redactor, io.env, await heldVariables(session.environment));
  } catch {
    // A backend definition that cannot load: what is registered so far is still masked.
  }
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth <= MAX_CAUSES; depth++) {
    parts.push(
      `${depth === 0 ? "" : "caused by: "}${current.stack ?? `${current.name}: ${current.message}`}`,
    );
    current = current.cause;
  }
  return session.redactor.redact(parts.join("\n"));
}
