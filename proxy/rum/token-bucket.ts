/**
 * A token bucket as Go's golang.org/x/time/rate.Limiter behaves (which APM Server's anonymous limit uses):
 * `rate` tokens a second up to `burst`; a reservation may take the bucket below zero and is then paid by
 * waiting. Two numbers of state, so an idle client costs almost nothing.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Starts over as a full bucket (an LRU-evicted limiter reused for another client). */
  reset(now: number): void {
    this.tokens = this.burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }

  /** Takes n tokens when they are there now. */
  allow(n: number, now: number): boolean {
    return this.reserve(n, 0, now) === 0;
  }

  /**
   * Reserves n tokens if they will be there within `maxWaitMs`: returns how long to wait for them (0: now), or
   * null, taking nothing, when they will not (or n exceeds the burst, so they never will).
   */
  reserve(n: number, maxWaitMs: number, now: number): number | null {
    if (n > this.burst || this.rate <= 0) return n <= 0 ? 0 : null;
    this.refill(now);
    const missing = n - this.tokens;
    const waitMs = missing <= 0 ? 0 : (missing / this.rate) * 1000;
    if (waitMs > maxWaitMs) return null;
    this.tokens -= n;
    return waitMs;
  }
}
