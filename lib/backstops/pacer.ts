/**
 * Spaces calls to at most `perSecond`, however many callers wait. Identity Center's
 * 20 TPS quota is shared by every part of the system; a background job takes a
 * small share of it so grants being activated right now are not throttled.
 */
export class Pacer {
  private next = 0;
  private readonly intervalMs: number;
  /** Calls let through so far. */
  calls = 0;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be above zero');
    this.intervalMs = 1000 / perSecond;
  }

  /** Resolves when the caller may make its call. */
  async take(): Promise<void> {
    this.calls++;
    const now = this.now();
    const at = Math.max(now, this.next);
    this.next = at + this.intervalMs;
    if (at > now) await this.sleep(at - now);
  }

  /** Runs `call` at its turn. */
  async paced<T>(call: () => Promise<T>): Promise<T> {
    await this.take();
    return call();
  }
}
