import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * Redis at maxmemory (32 MB): no forwarder runs, so the queue fills until the proxy sheds (503 "queue is full")
 * at its byte high-water mark; then a forwarder drains it. Every acknowledged event is indexed once, and the
 * proxy admits again.
 */
describe('fault: Redis at maxmemory', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start({ redis: { args: ['--maxmemory', '32mb'] } });
  });
  afterAll(() => rig.close());

  it('sheds at the high-water mark without losing anything acknowledged', async () => {
    await rig.startProxy();
    const load = rig.load({ senders: 4, eventsPerRequest: 20, padBytes: 2000 });
    const started = Date.now();
    let shedding = false;
    while (!shedding && Date.now() - started < 60_000) {
      await sleep(250);
      shedding = (await rig.processes[0]?.admin('/readyz'))?.body.includes('shedding') ?? false;
    }
    await sleep(3000);
    const sent = await load.stop();
    await rig.startForwarder('forwarder');
    const figures = await rig.oracle.settle(() => rig.indexedIds(), 90_000);
    recordScenario({
      scenario: 'redis-maxmemory',
      fault: 'Redis at maxmemory 32 MB, no forwarder until the proxy sheds',
      ...figures,
      rateDuringFault: 0,
      notes: `${sent.byStatus['503'] ?? 0} of ${sent.requests} requests answered 503`,
    });
    expect(shedding).toBe(true);
    expect(sent.byStatus['503'] ?? 0).toBeGreaterThan(0);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(await rig.send(1)).toBe(202);
    expect(rig.unexpectedErrors()).toEqual([]);
  }, 115_000);
});
