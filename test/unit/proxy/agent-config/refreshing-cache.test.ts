import { RefreshingCache } from '../../../../proxy/agent-config/refreshing-cache';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('RefreshingCache', () => {
  let now = 0;
  const clock = (): number => now;
  beforeEach(() => {
    now = 1_000;
  });

  it('shares one fetch among concurrent callers and serves it from memory for the period', async () => {
    const pending = deferred<string>();
    const fetch = jest.fn(() => pending.promise);
    const cache = new RefreshingCache({ fetch, periodMs: 30_000, now: clock });
    const callers = Array.from({ length: 100 }, () => cache.get());
    pending.resolve('v1');
    expect(await Promise.all(callers)).toEqual(Array(100).fill('v1'));
    now += 29_999;
    expect(await cache.get()).toBe('v1');
    expect(fetch).toHaveBeenCalledTimes(1);
    fetch.mockResolvedValueOnce('v2');
    now += 1;
    expect(await cache.get()).toBe('v2');
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('serves the last good value while the source fails, and asks the failing source once per period', async () => {
    const fetch = jest.fn<Promise<string>, []>().mockResolvedValueOnce('good');
    const stale = jest.fn();
    const cache = new RefreshingCache({ fetch, periodMs: 10, now: clock, onStaleServed: stale });
    expect(await cache.get()).toBe('good');
    fetch.mockRejectedValue(new Error('down'));
    now += 10;
    expect(await cache.get()).toBe('good');
    expect(await cache.get()).toBe('good');
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(stale).toHaveBeenCalledTimes(1);
  });

  it('rethrows only when it never had a value, and remembers that failure for the period', async () => {
    const fetch = jest.fn<Promise<string>, []>().mockRejectedValue(new Error('never up'));
    const cache = new RefreshingCache({ fetch, periodMs: 10, now: clock });
    await expect(cache.get()).rejects.toThrow('never up');
    await expect(cache.get()).rejects.toThrow('never up');
    expect(fetch).toHaveBeenCalledTimes(1);
    fetch.mockResolvedValue('up');
    now += 10;
    expect(await cache.get()).toBe('up');
  });

  it('fetches again at once after invalidate()', async () => {
    const fetch = jest.fn<Promise<string>, []>().mockResolvedValueOnce('a').mockResolvedValueOnce('b');
    const cache = new RefreshingCache({ fetch, periodMs: 60_000, now: clock });
    expect(await cache.get()).toBe('a');
    cache.invalidate();
    expect(await cache.get()).toBe('b');
  });
});
