// Restart delays for supervised parts (the capture sidecar, dissecting threads): a minimum
// doubling to a maximum, so a part that dies at once does not spin, and back to the minimum
// after a run that lasted a while, so a rare crash is not punished by an old streak.
export class Backoff {
  private delay: number;

  constructor(
    private readonly minMs = 250,
    private readonly maxMs = 10_000,
    /** A run at least this long earns the minimum delay again. */
    private readonly healthyMs = 30_000,
  ) {
    this.delay = minMs;
  }

  /** The delay before the next start, for a run that started at `startedAt` and just ended. */
  next(startedAt: number, now = Date.now()): number {
    if (now - startedAt >= this.healthyMs) this.delay = this.minMs;
    const d = this.delay;
    this.delay = Math.min(this.delay * 2, this.maxMs);
    return d;
  }
}
