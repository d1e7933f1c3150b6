/** Progress for long runs: a bar on a TTY, plain lines otherwise. Never a value. */
import type { Writable } from "node:stream";

export interface Progress {
  step(label: string): void;
  done(): void;
}

/** With no stream (machine output asked for), progress is silent. */
export function createProgress(
  stream: (Writable & { isTTY?: boolean; columns?: number }) | undefined,
  total: number,
  verb: string,
): Progress {
  let count = 0;
  if (!stream) return { step() {}, done() {} };
  if (stream.isTTY) {
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - 40));
    return {
      step(label) {
        count++;
        const filled = Math.round((count / Math.max(total, 1)) * width);
        stream.write(
          `\r[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${count}/${total} ${label.slice(0, 30).padEnd(30)}`,
        );
      },
      done() {
        if (total > 0) stream.write("\n");
      },
    };
  }
  return {
    step(label) {
      count++;
      stream.write(`${verb} ${count}/${total}: ${label}\n`);
    },
    done() {},
  };
}
