import { Redis } from 'ioredis';

import { eventually, ProxyHarness } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';

/**
 * Issue 17: the proxy's queue metric covers every partition (label `partition`), as the forwarders' queue metrics
 * do: with queue.partitions 3 each partition reports the memory of the Redis that serves it.
 */
describe('proxy queue metrics over queue.partitions = 3 (real redis-server)', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start();
    proxy = await ProxyHarness.start({ redis, overrides: { queue: { partitions: 3 } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  afterEach(() => proxy.sink.assertNoUnexpectedErrors());

  it('reports apm_sidecar_queue_redis_used_bytes for each partition, each with the memory Redis reports', async () => {
    const used = await eventually(
      async () => {
        const body = (await proxy.admin('/metrics')).body;
        const values = new Map<string, number>();
        for (const m of body.matchAll(/^apm_sidecar_queue_redis_used_bytes\{([^}]*)\} (\d+)$/gm)) {
          const partition = /partition="([^"]*)"/.exec(m[1] ?? '')?.[1];
          if (partition !== undefined && Number(m[2]) > 0) values.set(partition, Number(m[2]));
        }
        return values.size === 3 ? values : undefined;
      },
      15_000,
      'a used-bytes value for partitions 0, 1 and 2',
    );
    expect([...used.keys()].sort()).toEqual(['0', '1', '2']);
    // One redis-server serves all three: each reports its used_memory (within what the reads apart can differ).
    const client = new Redis(redis.url);
    const now = Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1]);
    client.disconnect();
    for (const bytes of used.values()) expect(Math.abs(bytes - now)).toBeLessThan(now);
  });
});
