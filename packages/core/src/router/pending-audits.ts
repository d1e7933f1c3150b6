/**
 * The audit writes still in flight, so `router.close()` can wait for them: an executor that
 * closes the router and exits must not lose its last audit events. Not exported from the
 * package: the router owns one.
 */
export class PendingAudits {
  readonly #pending = new Set<Promise<void>>();

  /** Tracks a write until it settles; its failure is the caller's to count, not ours. */
  track(write: PromiseLike<unknown>): void {
    const done = Promise.resolve(write).then(
      () => {},
      () => {},
    );
    this.#pending.add(done);
    void done.then(() => this.#pending.delete(done));
  }

  /** Settles once every write tracked so far, and any tracked meanwhile, has settled. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }
}
