/**
 * A value fetched at most once per period, whoever asks and however often: concurrent callers share one
 * in-flight fetch (single-flight), a fresh value is served from memory, and when a refresh fails the last good
 * value keeps being served. A failure is remembered for the same period, so an unreachable source is not asked
 * again by every poll; only a cache that never had a value rethrows it.
 */
export interface RefreshingCacheOptions<V> {
  readonly fetch: () => Promise<V>;
  readonly periodMs: number;
  /** Called when a refresh fails but an older value is served instead. */
  readonly onStaleServed?: (err: unknown) => void;
  readonly now?: () => number;
}

export class RefreshingCache<V> {
  private good: { readonly value: V } | undefined;
  /** Why the last attempt failed; rethrown only while there is no good value. */
  private lastError: unknown;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<V> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingCacheOptions<V>) {
    this.now = options.now ?? Date.now;
  }

  /** The current value, fetching only when the last attempt is older than the period. */
  async get(): Promise<V> {
    if (this.inflight !== undefined) return this.inflight;
    // attemptedAt is set as a fetch starts, so a recent one has finished (inflight is undefined) with its outcome.
    if (this.now() - this.attemptedAt < this.options.periodMs) return this.current();
    return this.refresh();
  }

  /** Makes the next get() fetch again (the file source calls this when the file changes). */
  invalidate(): void {
    this.attemptedAt = Number.NEGATIVE_INFINITY;
  }

  /** Fetches now (sharing a fetch already in flight); used at start to prime the cache. */
  refresh(): Promise<V> {
    this.inflight ??= this.runFetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async runFetch(): Promise<V> {
    this.attemptedAt = this.now();
    try {
      const value = await this.options.fetch();
      this.good = { value };
      return value;
    } catch (error) {
      this.attemptedAt = this.now();
      this.lastError = error;
      if (this.good !== undefined) this.options.onStaleServed?.(error);
      return this.current();
    }
  }

  /** The last good value (the one just fetched after a success), or the last failure when there never was one. */
  private current(): V {
    if (this.good !== undefined) return this.good.value;
    throw this.lastError;
  }
}
