import { randomBytes } from 'node:crypto';

import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

import { eventually, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * Issue 13: after ~25 large requests were delivered, completed jobs kept with their payload held Redis over the
 * byte high-water mark, and every later request got 503 with nothing waiting. Admission must count what still
 * has to be delivered: completed jobs keep no payload by default, and an empty queue admits even when something
 * else holds the memory.
 */
const headers = { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' };
const metadata = '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}';

/** ~1 MB of ndjson that gzip cannot shrink much (random hex): about 0.75 MB per job in Redis. */
function largeBody(seq: number): string {
  const lines = Array.from({ length: 10 }, (_, i) => {
    const id = (seq * 100 + i).toString(16).padStart(16, '0');
    return JSON.stringify({
      transaction: {
        id,
        trace_id: `${id}${id}`,
        type: 'request',
        duration: 1,
        span_count: { started: 0 },
        context: { custom: { pad: randomBytes(50_000).toString('hex') } },
      },
    });
  });
  return `${[metadata, ...lines].join('\n')}\n`;
}

describe.each([
  ['the default retention', {}],
  ['queue.retention.completed 1000 (payloads kept)', { queue: { retention: { completed: 1000 } } }],
])('admission once large requests were delivered, with %s', (_name, overrides) => {
  let redis: RedisServer;
  let proxy: ProxyHarness;
  let worker: Worker;
  let connection: Redis;

  beforeAll(async () => {
    redis = await RedisServer.start({ args: ['--maxmemory', '16mb'] });
    proxy = await ProxyHarness.start({ redis, overrides });
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    // Stands in for a forwarder: takes every job and completes it, so what is left is what retention keeps.
    worker = new Worker(proxy.config.queue.name, () => Promise.resolve({ indexed: 10 }), {
      connection,
      concurrency: 4,
    });
  });

  afterAll(async () => {
    await worker?.close();
    connection?.disconnect();
    await proxy?.close();
    await redis?.destroy();
  });

  it('admits again once the queue is empty, and readiness says when it sheds', async () => {
    for (let seq = 0; seq < 14; seq++) {
      await eventually(
        async () => {
          const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body: largeBody(seq) });
          return res.status === 202 ? true : undefined;
        },
        20_000,
        `request ${seq} accepted`,
      );
    }
    await eventually(
      async () => {
        const counts = await proxy.queue.getJobCounts('waiting', 'active', 'delayed');
        return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0 ? true : undefined;
      },
      20_000,
      'the queue drained',
    );
    // Nothing waits: the next request is admitted, whatever the completed jobs hold.
    const after = await eventually(
      async () => {
        const res = await proxy.request('/intake/v2/events', { method: 'POST', headers, body: largeBody(99) });
        return res.status === 202 ? res : undefined;
      },
      5_000,
      'a 202 with an empty queue',
    );
    expect(after.status).toBe(202);
    const ready = JSON.parse((await proxy.admin('/readyz')).body) as {
      ready: boolean;
      details: { queue: string; shedding?: string };
    };
    expect(ready).toMatchObject({ ready: true });
    if (ready.details.queue !== 'open') expect(ready.details.shedding).toMatch(/high-water mark/);
    proxy.sink.assertNoUnexpectedErrors();
  }, 90_000);
});
