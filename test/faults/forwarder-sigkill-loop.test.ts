import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * A forwarder SIGKILLed every ~3 s under load (a new one started each time), with 20% of bulk items answered
 * 429: its jobs in hand are redelivered by lock expiry, and the deterministic _id makes the second pass a 409.
 */
describe('fault: a forwarder SIGKILLed in a loop', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start({
      redis: { args: ['--appendfsync', 'always'] },
      proxy: { queue: { durability: 'fsync' } },
    });
  });
  afterAll(() => rig.close());

  it('indexes every acknowledged event exactly once', async () => {
    await rig.startProxy();
    let forwarder = await rig.startForwarder('forwarder-0');
    rig.standin.setFaults({ bulkItemRejectShare: 0.2 });
    const load = rig.load({ senders: 4, eventsPerRequest: 20, pauseMs: 100 });
    const kills = 5;
    const rate = await rig.rateDuring(async () => {
      for (let i = 1; i <= kills; i++) {
        await sleep(3000);
        expect((await forwarder.kill('SIGKILL')).signal).toBe('SIGKILL');
        forwarder = await rig.startForwarder(`forwarder-${i}`);
      }
    });
    const sent = await load.stop();
    rig.standin.setFaults({});

    const figures = await rig.oracle.settle(() => rig.indexedIds(), 90_000);
    recordScenario({
      scenario: 'forwarder-sigkill-loop',
      fault: `forwarder SIGKILLed ${kills}x under load, 20% item 429s`,
      ...figures,
      rateDuringFault: rate,
      notes: `${sent.requests} requests`,
    });
    expect(figures.acknowledged).toBeGreaterThan(1000);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(await rig.send(1)).toBe(202);
    expect(rig.unexpectedErrors()).toEqual([]);
  }, 115_000);
});
