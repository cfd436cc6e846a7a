import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * A config change rolled out to the proxies first: they accept 64 MiB bodies, the forwarder still has
 * server.max_request_size 100 kB and cannot read the larger jobs. They are kept (failed set, named in the
 * dead-letter queue, counted, in /readyz); once the forwarder runs with the same limit, `dlq replay` brings them
 * back and every acknowledged event is indexed exactly once.
 */
describe('fault: a forwarder and proxies with different server.max_request_size', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start();
  });
  afterAll(() => rig.close());

  it('keeps the jobs the forwarder cannot read and replays them once the limits agree', async () => {
    await rig.startProxy();
    const small = await rig.startForwarder('forwarder-small', { server: { max_request_size: 100_000 } });
    // Requests of ~105 kB decompressed: each over the forwarder's limit, well within the proxies'.
    const load = rig.load({ senders: 3, eventsPerRequest: 20, padBytes: 5000, pauseMs: 100 });
    const rate = await rig.rateDuring(() => sleep(8000));
    const sent = await load.stop();
    let counts = await rig.queueCounts();
    while ((counts.waiting ?? 0) + (counts.active ?? 0) > 0) {
      await sleep(250);
      counts = await rig.queueCounts();
    }
    const unreadable = await small.metric('apm_sidecar_unreadable_jobs');
    const readyz = await small.admin('/readyz');
    await small.kill('SIGTERM');
    await rig.startForwarder('forwarder-fixed');
    const fixedAt = Date.now();
    const replay = await rig.cli(['dlq', 'replay']);
    const figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    recordScenario({
      scenario: 'max-request-size-mismatch',
      fault: 'forwarder server.max_request_size 100 kB, proxies 64 MiB; fixed, then dlq replay',
      ...figures,
      rateDuringFault: rate,
      drainSeconds: figures.drainSeconds === null ? null : (Date.now() - fixedAt) / 1000,
      notes: `${counts.failed ?? 0} jobs kept unreadable of ${sent.byStatus['202'] ?? 0} acknowledged requests; replayed by dlq replay`,
    });
    expect(counts.failed ?? 0).toBeGreaterThan(0);
    expect(unreadable).toBe(counts.failed);
    expect(readyz.body).toContain('unreadable_jobs');
    expect(replay).toMatch(/unreadable jobs moved from the failed set back to waiting/);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect((await rig.queueCounts()).failed ?? 0).toBe(0);
    expect(rig.unexpectedErrors([/job cannot be read/])).toEqual([]);
  }, 115_000);
});
