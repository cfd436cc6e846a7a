import { Redis } from 'ioredis';

import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * queue.durability fsync; an operator restarts Redis with `appendonly no` under load, Redis is then SIGKILLed
 * (losing everything it held), and at last the operator turns AOF back on. While Redis is weaker than the
 * configured level, nothing is acknowledged; before and after, every acknowledged event is indexed exactly once.
 */
describe('fault: Redis restarted with a weaker persistence config', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start({
      redis: { args: ['--appendfsync', 'always'] },
      proxy: { queue: { durability: 'fsync' } },
    });
  });
  afterAll(() => rig.close());

  it('answers 503 while Redis is weaker than queue.durability, and loses nothing acknowledged', async () => {
    const proxy = await rig.startProxy();
    await rig.startForwarder('forwarder');
    let load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 50 });
    await sleep(4000);
    await load.stop();
    // The operator waits for the queue to drain, then restarts Redis with AOF off (its data is not kept).
    expect((await rig.oracle.settle(() => rig.indexedIds(), 60_000)).lost).toBe(0);
    const ackedBefore = rig.oracle.acknowledged;
    await rig.redis.restart('SIGTERM', { appendonly: false });
    load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 50 });
    const rate = await rig.rateDuring(async () => {
      await sleep(3000);
      await rig.redis.restart('SIGKILL', { appendonly: false });
      await sleep(3000);
    });
    const ackedWhileWeak = rig.oracle.acknowledged - ackedBefore;
    const readyz = await proxy.admin('/readyz');
    const fix = new Redis(rig.redis.url);
    await fix.call('CONFIG', 'SET', 'appendonly', 'yes');
    fix.disconnect();
    const fixedAt = Date.now();
    await sleep(4000);
    const sent = await load.stop();

    const figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    recordScenario({
      scenario: 'redis-weaker-persistence',
      fault: 'Redis restarted with appendonly no under load, then SIGKILLed (durability fsync)',
      ...figures,
      rateDuringFault: rate,
      drainSeconds: figures.drainSeconds === null ? null : (Date.now() - fixedAt) / 1000,
      notes: `${ackedWhileWeak} acknowledged while Redis was weaker; ${sent.byStatus['503'] ?? 0} requests answered 503`,
    });
    expect(ackedWhileWeak).toBe(0);
    expect(readyz.status).toBe(503);
    expect(readyz.body).toMatch(/appendonly no/);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(figures.acknowledged).toBeGreaterThan(ackedBefore);
    expect(await rig.send(1)).toBe(202);
    expect(rig.unexpectedErrors([/no longer gives the configured queue.durability/])).toEqual([]);
  }, 115_000);
});
