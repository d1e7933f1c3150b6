// A child process for test/reliability/store.test.ts, run as
// `node --import ./register.mjs store-worker.ts '<json>'`:
//   writer: puts self-checking values to its keys forever, printing `committed KEY N` after each
//           put resolves (the parent kills it with SIGKILL mid-put);
//   cas:    `count` compare-and-set increments of one key, retrying on ConflictError; prints
//           `{"done":N,"conflicts":M}` and exits.
import { createHash } from "node:crypto";
import { createStoreBackend, type StoreBackendOptions } from "@keyway/backend-store";
import { ConflictError } from "@keyway/core";

interface Job {
  mode: "writer" | "cas";
  options: StoreBackendOptions;
  keys: string[];
  count?: number;
}

const job = JSON.parse(process.argv[2] ?? "{}") as Job;
const backend = createStoreBackend(job.options);
const ref = (key: string) => ({ namespace: "reliability.store", key });

/** A value that proves itself whole: its key, its number, padding, and a digest of all three. */
export function selfChecking(key: string, n: number): string {
  const body = `${key}:${n}:${"x".repeat(32_768 + (n % 97))}`;
  return `${body}:${createHash("sha256").update(body).digest("hex")}`;
}

if (job.mode === "writer") {
  await backend.prepare();
  process.stdout.write("ready\n");
  for (let n = 1; ; n++) {
    for (const key of job.keys) {
      await backend.put(ref(key), selfChecking(key, n));
      process.stdout.write(`committed ${key} ${n}\n`);
    }
  }
} else {
  const key = job.keys[0] as string;
  let done = 0;
  let conflicts = 0;
  while (done < (job.count ?? 0)) {
    const current = await backend.get(ref(key));
    try {
      await backend.put(
        ref(key),
        String(Number(current.reveal()) + 1),
        {},
        { ifVersion: current.metadata.version },
      );
      done++;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      conflicts++;
    }
  }
  await backend.close();
  process.stdout.write(`${JSON.stringify({ done, conflicts })}\n`);
}
