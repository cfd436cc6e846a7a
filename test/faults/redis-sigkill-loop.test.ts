import { type ChildProcess, spawn } from 'node:child_process';
import os from 'node:os';

import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * Redis SIGKILLed every ~4 s under load (appendfsync always, queue.durability fsync), with a CPU hog on every
 * core so Redis, the proxy and the forwarders all run late, as on a machine loaded by other work. Once the queue
 * has settled, every acknowledged event is indexed exactly once and no job is left failed or stranded.
 */
function cpuHogs(): ChildProcess[] {
  return Array.from({ length: os.availableParallelism() }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

describe('fault: Redis SIGKILLed in a loop under load, beside a CPU hog', () => {
  let rig: FaultRig;
  let hogs: ChildProcess[] = [];
  beforeAll(async () => {
    rig = await FaultRig.start({
      redis: { args: ['--appendfsync', 'always'] },
      proxy: { queue: { durability: 'fsync' } },
    });
  });
  afterAll(async () => {
    for (const hog of hogs) hog.kill('SIGKILL');
    await rig.close();
  });

  it('indexes every acknowledged event exactly once and fails no job', async () => {
    await rig.startProxy();
    await rig.startForwarder('forwarder-a');
    await rig.startForwarder('forwarder-b');
    const load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 50 });
    await sleep(2000);
    hogs = cpuHogs();
    const kills = 5;
    const rate = await rig.rateDuring(async () => {
      for (let i = 0; i < kills; i++) {
        await sleep(4000);
        await rig.redis.restart('SIGKILL');
      }
      await sleep(3000);
    });
    for (const hog of hogs) hog.kill('SIGKILL');
    const sent = await load.stop();

    const figures = await rig.oracle.settle(() => rig.indexedIds(), 90_000);
    const counts = await rig.queueCounts();
    recordScenario({
      scenario: 'redis-sigkill-loop',
      fault: `Redis SIGKILLed ${kills}x under load, CPU hog on every core`,
      ...figures,
      rateDuringFault: rate,
      notes: `${sent.requests} requests (${sent.byStatus['503'] ?? 0} answered 503, ${sent.byStatus['0'] ?? 0} cut); failed jobs ${counts.failed ?? 0}`,
    });
    expect(figures.acknowledged).toBeGreaterThan(500);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(counts.failed ?? 0).toBe(0);
    expect(await rig.send(1)).toBe(202);
    expect(rig.unexpectedErrors()).toEqual([]);
  }, 115_000);
});
