import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * Requests of ~2.5 MB (random, so gzip keeps them large) against Redis with maxmemory 64 MB: the proxy sheds at
 * its byte high-water mark while the forwarder drains, and once the queue is empty it admits again (issue 13:
 * completed jobs kept with their payload held Redis over the mark and every later request got 503).
 */
describe('fault: large requests filling the byte high-water mark, then draining', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start({ redis: { args: ['--maxmemory', '64mb'] } });
  });
  afterAll(() => rig.close());

  it('indexes every acknowledged event once and admits again with an empty queue', async () => {
    const proxy = await rig.startProxy();
    await rig.startForwarder('forwarder', { forwarder: { concurrency: 4 } });
    const load = rig.load({ senders: 3, eventsPerRequest: 25, padBytes: 100_000 });
    const rate = await rig.rateDuring(() => sleep(20_000));
    const sent = await load.stop();
    const figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    let counts = await rig.queueCounts();
    while ((counts.waiting ?? 0) + (counts.active ?? 0) > 0) {
      await sleep(250);
      counts = await rig.queueCounts();
    }
    const statusAfter = await rig.send(1);
    const readyz = JSON.parse((await proxy.admin('/readyz')).body) as { details?: { queue?: string } };
    recordScenario({
      scenario: 'large-requests-drain',
      fault: '~2.5 MB requests over the byte high-water mark (maxmemory 64 MB)',
      ...figures,
      rateDuringFault: rate,
      notes: `${sent.requests} requests, ${sent.byStatus['503'] ?? 0} answered 503; after draining: ${statusAfter}, queue ${readyz.details?.queue ?? '?'}`,
    });
    expect(sent.byStatus['202'] ?? 0).toBeGreaterThanOrEqual(10);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(statusAfter).toBe(202);
    expect(rig.unexpectedErrors()).toEqual([]);
  }, 115_000);
});
