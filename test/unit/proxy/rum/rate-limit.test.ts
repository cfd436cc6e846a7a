import { IpRateLimiters } from '../../../../proxy/rum/ip-rate-limiters';
import { TokenBucket } from '../../../../proxy/rum/token-bucket';

describe('TokenBucket (rate.Limiter semantics)', () => {
  it('starts full at the burst, refills at the rate, never above the burst', () => {
    const bucket = new TokenBucket(10, 30, 0);
    expect(bucket.allow(30, 0)).toBe(true);
    expect(bucket.allow(1, 0)).toBe(false);
    expect(bucket.allow(5, 500)).toBe(true); // 0.5 s at 10/s
    expect(bucket.allow(1, 500)).toBe(false);
    expect(bucket.allow(30, 100_000)).toBe(true);
    expect(bucket.allow(1, 100_000)).toBe(false);
  });

  it('reserves tokens that arrive within the wait, and refuses without taking when they would not', () => {
    const bucket = new TokenBucket(10, 30, 0);
    expect(bucket.reserve(30, 0, 0)).toBe(0);
    expect(bucket.reserve(10, 1000, 0)).toBe(1000);
    // the bucket is now 10 in debt: 10 more would take 2 s, over the 1 s allowed, and take nothing
    expect(bucket.reserve(10, 1000, 0)).toBeNull();
    expect(bucket.reserve(10, 2000, 0)).toBe(2000);
    expect(bucket.reserve(31, 1e9, 0)).toBeNull(); // more than the burst never fits
  });
});

describe('IpRateLimiters', () => {
  it('keeps one bucket per IP: a flood from one IP does not touch another', () => {
    let now = 0;
    const limiters = new IpRateLimiters({ eventLimit: 2, ipLimit: 10, now: () => now });
    for (let i = 0; i < 6; i++) expect(limiters.allowRequest('10.0.0.1')).toBe(true);
    expect(limiters.allowRequest('10.0.0.1')).toBe(false);
    expect(limiters.allowRequest('10.0.0.2')).toBe(true);
    now = 500;
    expect(limiters.allowRequest('10.0.0.1')).toBe(true);
  });

  it('bounds the IPs tracked: the least recently used is evicted and its bucket reused, refilled', () => {
    let now = 0;
    const limiters = new IpRateLimiters({ eventLimit: 1, ipLimit: 3, now: () => now });
    const first = limiters.bucketFor('a');
    for (let i = 0; i < 3; i++) limiters.allowRequest('a');
    expect(limiters.allowRequest('a')).toBe(false);
    limiters.bucketFor('b');
    limiters.bucketFor('c');
    limiters.bucketFor('b'); // b is now more recent than c; a is the oldest
    expect(limiters.bucketFor('d')).toBe(first);
    expect(limiters.size).toBe(3);
    expect(limiters.allowRequest('d')).toBe(true);
    // a comes back with a fresh bucket (evicting c, the least recently used)
    expect(limiters.allowRequest('a')).toBe(true);
    expect(limiters.size).toBe(3);
    now += 1;
  });

  it("waits for a batch's tokens when they come within the wait, else refuses at once", async () => {
    const limiters = new IpRateLimiters({ eventLimit: 100, ipLimit: 10 });
    expect(await limiters.waitFor('x', 300, 1000)).toBe(true);
    const started = Date.now();
    expect(await limiters.waitFor('x', 10, 1000)).toBe(true); // ~100 ms
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(await limiters.waitFor('x', 200, 1000)).toBe(false); // 2 s away
  });

  it('holds memory bounded by ip_limit under a stream of distinct IPs', () => {
    const limiters = new IpRateLimiters({ eventLimit: 300, ipLimit: 1000 });
    for (let i = 0; i < 50_000; i++) limiters.allowRequest(`198.51.${(i >> 8) & 255}.${i & 255}-${i}`);
    expect(limiters.size).toBe(1000);
  });
});
