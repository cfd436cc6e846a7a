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

type Outcome<V> = { readonly ok: true; readonly value: V } | { readonly ok: false; readonly error: unknown };

export class RefreshingCache<V> {
  private good: { readonly value: V } | undefined;
  private lastOutcome: Outcome<V> | undefined;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<V> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingCacheOptions<V>) {
    this.now = options.now ?? Date.now;
  }

  /** The current value, fetching only when the last attempt is older than the period. */
  async get(): Promise<V> {
    if (this.inflight !== undefined) return this.inflight;
    if (this.lastOutcome !== undefined && this.now() - this.attemptedAt < this.options.periodMs) {
      return this.fromOutcome(this.lastOutcome);
    }
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
      this.lastOutcome = { ok: true, value };
      return value;
    } catch (error) {
      this.attemptedAt = this.now();
      this.lastOutcome = { ok: false, error };
      if (this.good !== undefined) this.options.onStaleServed?.(error);
      return this.fromOutcome(this.lastOutcome);
    }
  }

  private fromOutcome(outcome: Outcome<V>): V {
    if (outcome.ok) return outcome.value;
    if (this.good !== undefined) return this.good.value;
    throw outcome.error;
  }
}
