import { TokenBucket } from './token-bucket';

export interface IpRateLimitSettings {
  /** Events per second per client IP; the burst is 3x, as APM Server's. */
  readonly eventLimit: number;
  /** Client IPs tracked at once; the least recently used is evicted and its bucket reused. */
  readonly ipLimit: number;
  readonly now?: () => number;
}

const burstMultiplier = 3;

/**
 * One TokenBucket per client IP in a bounded LRU (a Map in recency order). Memory is bounded by ipLimit: a
 * flood from many addresses evicts old buckets and reuses them, it never grows the map. An evicted client
 * comes back with a full bucket, which is what APM Server's LRU does too.
 */
export class IpRateLimiters {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly now: () => number;

  constructor(private readonly settings: IpRateLimitSettings) {
    this.now = settings.now ?? Date.now;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** The bucket of one IP, now the most recently used. */
  bucketFor(ip: string): TokenBucket {
    const now = this.now();
    const existing = this.buckets.get(ip);
    if (existing !== undefined) {
      this.buckets.delete(ip);
      this.buckets.set(ip, existing);
      return existing;
    }
    const bucket =
      this.evictOldest(now) ??
      new TokenBucket(this.settings.eventLimit, this.settings.eventLimit * burstMultiplier, now);
    this.buckets.set(ip, bucket);
    return bucket;
  }

  /** At the limit: removes the least recently used IP and hands back its bucket, refilled. */
  private evictOldest(now: number): TokenBucket | undefined {
    if (this.buckets.size < Math.max(1, this.settings.ipLimit)) return undefined;
    const oldest = this.buckets.entries().next();
    if (oldest.done === true) return undefined;
    const [ip, bucket] = oldest.value;
    this.buckets.delete(ip);
    bucket.reset(now);
    return bucket;
  }

  /** The per-request check: one token now, or the request is refused before its body is read. */
  allowRequest(ip: string): boolean {
    return this.bucketFor(ip).allow(1, this.now());
  }

  /** Waits (at most maxWaitMs) until n events' tokens are there; false, without waiting, if they will not be. */
  async waitFor(ip: string, n: number, maxWaitMs: number): Promise<boolean> {
    const wait = this.bucketFor(ip).reserve(n, maxWaitMs, this.now());
    if (wait === null) return false;
    if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait));
    return true;
  }
}
