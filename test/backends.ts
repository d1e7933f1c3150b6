/**
 * The backend manifest (backends.json at the root), read and checked once: what the Vitest
 * projects, the container script, the reliability suites, the meta tests and the README's
 * package table are derived from. Adding a backend: its package, plus one entry there.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One backend in backends.json (see its `$comment` for each field). */
export interface BackendEntry {
  readonly type: string;
  readonly package: string;
  /** From the repository root; `packages/backend-<type>` unless given. */
  readonly dir: string;
  readonly summary?: string;
  readonly servers: readonly string[];
  readonly optional: boolean;
  readonly faults?: string;
  readonly containers: Readonly<Record<string, string>>;
  readonly example: boolean;
}

const FIELDS = new Set([
  "type",
  "package",
  "dir",
  "summary",
  "servers",
  "optional",
  "faults",
  "containers",
  "example",
]);

function entry(raw: Record<string, unknown>, index: number): BackendEntry {
  const at = `backends.json: backends[${index}]`;
  for (const field of Object.keys(raw))
    if (!FIELDS.has(field)) throw new Error(`${at}: unknown field '${field}'`);
  const { type, package: name } = raw;
  if (typeof type !== "string" || !/^[a-z0-9-]+$/.test(type))
    throw new Error(`${at}: 'type' must be [a-z0-9-]+`);
  if (typeof name !== "string") throw new Error(`${at}: 'package' must be a package name`);
  const servers = (raw.servers ?? []) as string[];
  if (raw.faults !== undefined && !servers.includes(raw.faults as string))
    throw new Error(`${at}: 'faults' must be one of its servers`);
  const example = raw.example === true;
  if (!example && typeof raw.summary !== "string")
    throw new Error(`${at}: a published backend needs a 'summary'`);
  return {
    type,
    package: name,
    dir: (raw.dir as string | undefined) ?? `packages/backend-${type}`,
    servers,
    optional: raw.optional === true,
    containers: (raw.containers ?? {}) as Record<string, string>,
    example,
    ...(typeof raw.summary === "string" ? { summary: raw.summary } : {}),
    ...(typeof raw.faults === "string" ? { faults: raw.faults } : {}),
  };
}

const file = fileURLToPath(new URL("../backends.json", import.meta.url));
const parsed = JSON.parse(readFileSync(file, "utf8")) as { backends: Record<string, unknown>[] };

/** Every backend, in the manifest's order. */
export const BACKENDS: readonly BackendEntry[] = parsed.backends.map(entry);

/** The backends with a server suite: one Vitest project `backend-<type>` each. */
export const SERVER_BACKENDS = BACKENDS.filter((b) => b.servers.length > 0);

/** The servers the reliability suite puts faults in front of, one per backend that has one. */
export const FAULT_SERVERS = BACKENDS.flatMap((b) => (b.faults ? [b.faults] : []));
