import { eventually, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { golden, parsed } from './golden';

const headers = {
  Authorization: `Bearer ${testToken}`,
  Accept: 'application/json',
  'Content-Type': 'application/x-ndjson',
};
const body = [
  '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}',
  '{"transaction":{"id":"945254c567a5417e","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":32.5,"span_count":{"started":0}}}',
  '',
].join('\n');

describe('backpressure: 503 before the body is read', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { queue: { high_water_mark: { jobs: 3 } } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('answers 503 "queue is full" with Retry-After over the high-water mark, and 202 again once it drains', async () => {
    expect((await proxy.request('/intake/v2/events', { method: 'POST', headers, body })).status).toBe(202);
    for (let i = 0; i < 3; i++) await proxy.queue.add('intake', { filler: i });
    const full = await eventually(
      async () => {
        const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body });
        return res.status === 503 ? res : undefined;
      },
      15_000,
      'a 503 over the high-water mark',
    );
    expect(parsed(full.body)).toEqual(golden('queue-full.json'));
    expect(full.headers['retry-after']).toBe('5');
    expect(full.headers.connection).toBe('close');
    // Full is not "not ready": the proxy still does its job (refusing fast) and recovers by itself.
    const readyz = await proxy.admin('/readyz');
    expect(readyz.status).toBe(200);
    // ... but it says that it sheds, and why.
    expect(parsed(readyz.body)).toMatchObject({
      ready: true,
      reasons: [],
      details: { queue: 'full', shedding: expect.stringMatching(/high-water mark 3/) as unknown },
    });
    await proxy.queue.drain();
    await eventually(async () =>
      (await proxy.request('/intake/v2/events', { method: 'POST', headers, body })).status === 202 ? true : undefined,
    );
    proxy.sink.assertNoUnexpectedErrors();
  });
  // An idle proxy polls Redis only every 30 s (idle cost), so after an idle spell its view may be stale: a stale
  // refusal must not be trusted. A queue that drained while nothing came in admits the very first request.
  it('admits the first request after an idle spell once the full queue drained meanwhile', async () => {
    for (let i = 0; i < 3; i++) await proxy.queue.add('intake', { filler: i });
    await eventually(
      async () => {
        const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body });
        return res.status === 503 ? true : undefined;
      },
      15_000,
      'a 503 over the high-water mark',
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // idle: nothing admitted for over 2 s
    await proxy.queue.drain();
    const first = await proxy.request('/intake/v2/events', { method: 'POST', headers, body });
    expect({ status: first.status, body: first.body }).toEqual({ status: 202, body: '' });
  }, 60_000);
});

describe('Redis outage', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  it('answers 503 at once while Redis is down, is not ready, and recovers when Redis is back', async () => {
    expect((await proxy.request('/intake/v2/events', { method: 'POST', headers, body })).status).toBe(202);
    await redis.stop();
    const down = await eventually(
      async () => {
        const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body });
        return res.status === 503 ? res : undefined;
      },
      15_000,
      'a 503 while Redis is down',
    );
    expect(parsed(down.body)).toEqual(golden('queue-full.json'));
    expect(down.headers['retry-after']).toBeDefined();
    const notReady = await proxy.admin('/readyz');
    expect(notReady.status).toBe(503);
    expect((parsed(notReady.body) as { reasons: string[] }).reasons.join(' ')).toMatch(/Redis unavailable/);
    // Many requests during the outage are all answered (fail fast), none hang.
    const burst = await Promise.all(
      Array.from({ length: 20 }, () => proxy.request('/intake/v2/events', { method: 'POST', headers, body })),
    );
    expect(burst.every((r) => r.status === 503)).toBe(true);
    await redis.restart();
    await eventually(
      async () =>
        (await proxy.request('/intake/v2/events', { method: 'POST', headers, body })).status === 202 ? true : undefined,
      20_000,
      'a 202 after Redis is back',
    );
    expect((await proxy.admin('/readyz')).status).toBe(200);
    const jobs = await proxy.queue.getJobs(['waiting']);
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    proxy.sink.assertNoUnexpectedErrors();
  });
});
