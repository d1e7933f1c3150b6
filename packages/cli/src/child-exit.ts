/** Thrown by `keyway run` (commands/redact.ts) to pass the child's exit code through `runCli`. */
export class ChildExit extends Error {
  constructor(readonly code: number) {
    super(`child exited with ${code}`);
  }
}
