import { Redis } from 'ioredis';

import { eventually, ProxyHarness, testToken } from '../../support/proxy-harness';
import { RedisServer } from '../../support/redis';
import { parsed } from './golden';

/**
 * Issue 13: with queue.durability fsync, an operator restarted Redis with `appendonly no` and the proxy went on
 * answering 202 (the level was checked only at start); a SIGKILL then lost everything acknowledged since. The
 * level is read again on every reconnection, before anything is admitted, and every second.
 */
const headers = { Authorization: `Bearer ${testToken}`, 'Content-Type': 'application/x-ndjson' };
const body = [
  '{"metadata":{"service":{"name":"svc","agent":{"name":"nodejs","version":"4.18.0"}}}}',
  '{"transaction":{"id":"945254c567a5417e","trace_id":"0123456789abcdef0123456789abcdef","type":"request","duration":32.5,"span_count":{"started":0}}}',
  '',
].join('\n');

describe('queue.durability fsync is re-checked while the proxy runs', () => {
  let redis: RedisServer;
  let proxy: ProxyHarness;

  beforeAll(async () => {
    redis = await RedisServer.start({ args: ['--appendfsync', 'always'] });
    proxy = await ProxyHarness.start({ redis, overrides: { queue: { durability: 'fsync' } } });
  });

  afterAll(async () => {
    await proxy?.close();
    await redis?.destroy();
  });

  const post = async (): Promise<number> =>
    (await proxy.request('/intake/v2/events', { method: 'POST', headers, body })).status;

  it('never answers 202 from a Redis restarted with appendonly no, and says why in /readyz', async () => {
    expect(await post()).toBe(202);
    await redis.restart('SIGTERM', { appendonly: false });
    // From the first request after the restart on, none may be acknowledged.
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      statuses.push(await post());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(statuses.filter((s) => s === 202)).toEqual([]);
    const readyz = await proxy.admin('/readyz');
    expect(readyz.status).toBe(503);
    expect(parsed(readyz.body)).toMatchObject({
      ready: false,
      details: { queue: 'unsafe' },
      reasons: [expect.stringMatching(/appendonly no/) as unknown],
    });
    const fix = new Redis(redis.url);
    await fix.call('CONFIG', 'SET', 'appendonly', 'yes');
    await eventually(async () => ((await post()) === 202 ? true : undefined), 15_000, 'a 202 once appendonly is back');
    expect((await proxy.admin('/readyz')).status).toBe(200);

    // A change at runtime, without a reconnection, is seen within a few seconds.
    await fix.call('CONFIG', 'SET', 'appendfsync', 'everysec');
    await eventually(
      async () => ((await post()) === 503 ? true : undefined),
      10_000,
      'a 503 once appendfsync is everysec',
    );
    await fix.call('CONFIG', 'SET', 'appendfsync', 'always');
    await eventually(
      async () => ((await post()) === 202 ? true : undefined),
      10_000,
      'a 202 once appendfsync is always again',
    );
    fix.disconnect();
    proxy.sink.assertNoUnexpectedErrors([/no longer gives the configured queue.durability/]);
  }, 60_000);

  it('an idle proxy polls Redis rarely, yet the first request after the idle spell sees a change made during it', async () => {
    const fix = new Redis(redis.url);
    expect(await post()).toBe(202);
    // Idle (nothing admitted for 2 s): polls every 30 s. Count the proxy's commands over 4 s of it.
    await new Promise((r) => setTimeout(r, 2500));
    const before = Number(/^total_commands_processed:(\d+)/m.exec(await fix.info('stats'))?.[1]);
    await new Promise((r) => setTimeout(r, 4000));
    const after = Number(/^total_commands_processed:(\d+)/m.exec(await fix.info('stats'))?.[1]);
    // Busy pace would be 16 depth polls (2 commands each) and 4 durability reads; idle, at most 2 polls.
    expect(after - before).toBeLessThan(16);
    await fix.call('CONFIG', 'SET', 'appendfsync', 'everysec');
    expect(await post()).toBe(503);
    await fix.call('CONFIG', 'SET', 'appendfsync', 'always');
    await eventually(async () => ((await post()) === 202 ? true : undefined), 10_000, 'a 202 again');
    fix.disconnect();
    proxy.sink.assertNoUnexpectedErrors([/no longer gives the configured queue.durability/]);
  }, 60_000);
});
