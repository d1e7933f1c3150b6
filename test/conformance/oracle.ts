// The real engines as long-lived processes: Kestra's Jackson + Pebble (a Java program) and
// Jinja2 (a Python script), both installed by scripts/emulators/install.sh into .emulators/.
// Each speaks JSON lines over stdin/stdout, so hundreds of cases share one JVM and one Python.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(HERE, "..", "..");
const EMULATORS = process.env.KEYWAY_EMULATORS_DIR ?? path.join(ROOT, ".emulators");

export type OracleName = "kestra-oracle" | "jinja2";

/**
 * The oracle's name when install.sh finished it (its marker is written last). Otherwise: in CI
 * (CI=true) it throws, since a skipped conformance suite must fail the run; on a laptop it prints
 * one loud line and returns undefined, and the suite skips.
 */
export function requireOracle(name: OracleName): OracleName | undefined {
  if (existsSync(path.join(EMULATORS, name, ".installed"))) return name;
  const fix = `run scripts/emulators/install.sh ${name} (npm run emulators)`;
  if (process.env.CI === "true")
    throw new Error(`[keyway] conformance suite (${name}) cannot run in CI (CI=true): not installed; ${fix}`);
  console.warn(`[keyway] SKIPPING conformance suite (${name}): not installed; ${fix}`);
  return undefined;
}

interface Reply {
  id: number;
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}

/** One long-lived engine process; `ask` sends a request and waits for the answer with its id. */
export class LineOracle {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting = new Map<number, { resolve: (reply: Reply) => void; reject: (e: Error) => void }>();
  readonly ready: Promise<void>;
  #next = 1;
  #stderr = "";

  constructor(command: string, args: readonly string[]) {
    this.#child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.#child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    const lines = createInterface({ input: this.#child.stdout });
    this.ready = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.once("exit", (code) => {
        const error = new Error(`${command} exited (${code}) ${this.#stderr}`);
        reject(error);
        for (const { reject: fail } of this.#waiting.values()) fail(error);
        this.#waiting.clear();
      });
      lines.on("line", (line) => {
        const reply = JSON.parse(line) as Reply & { ready?: boolean };
        if (reply.ready) return resolve();
        this.#waiting.get(reply.id)?.resolve(reply);
        this.#waiting.delete(reply.id);
      });
    });
  }

  ask(request: Record<string, unknown>): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#child.stdin.write(`${JSON.stringify({ ...request, id })}\n`);
    });
  }

  /** Ends the process (ours, by its own handle) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once("exit", resolve));
    this.#child.stdin.end();
    this.#child.kill("SIGTERM");
    await exited;
  }
}

/** Kestra's reading of a YAML flow: Jackson's tree, and each string rendered as Kestra renders it. */
export class KestraOracle {
  readonly #process: LineOracle;

  constructor() {
    const dir = path.join(EMULATORS, "kestra-oracle");
    // The java install.sh compiled and smoke-tested it with (PATH's, at install time).
    const java = readFileSync(path.join(dir, "java"), "utf8").trim();
    this.#process = new LineOracle(java, [
      "-Xshare:auto",
      "-XX:TieredStopAtLevel=1",
      "-cp",
      `${path.join(dir, "classes")}${path.delimiter}${path.join(dir, "lib", "*")}`,
      "KestraOracle",
    ]);
  }

  get ready(): Promise<void> {
    return this.#process.ready;
  }

  /** Jackson's tree of the YAML (`tree`), and with `evaluate` each string rendered by Pebble (`rendered`). */
  async read(yaml: string, evaluate: boolean): Promise<{ tree: unknown; rendered?: unknown }> {
    const reply = await this.#process.ask({ yaml, evaluate });
    if (!reply.ok) throw new Error(`Kestra's YAML reader refused the output: ${reply.error}`);
    return { tree: reply.tree, rendered: reply.rendered };
  }

  close(): Promise<void> {
    return this.#process.close();
  }
}

/** Jinja2's rendering of a template (a `StrictUndefined` environment, the trailing newline kept). */
export class JinjaOracle {
  readonly #process = new LineOracle(path.join(EMULATORS, "jinja2", "venv", "bin", "python"), [
    path.join(HERE, "jinja_oracle.py"),
  ]);

  get ready(): Promise<void> {
    return this.#process.ready;
  }

  async render(template: string): Promise<string | { error: string }> {
    const reply = await this.#process.ask({ template });
    return reply.ok ? (reply.out as string) : { error: reply.error ?? "" };
  }

  close(): Promise<void> {
    return this.#process.close();
  }
}
