import { superuser } from '../integration/forwarder/support';
import { recordScenario } from '../support/oracle';
import { FaultRig, sleep } from './support/rig';

/**
 * A mapping conflict dead-letters one error event per request until the dead-letter queue (max_entries 100) is
 * full. Nothing is dropped (when_full block, the default): the forwarder stops taking jobs and says why, the
 * queue backs up, the proxy sheds with 503 at its high-water mark. The operator fixes the mapping and runs
 * `dlq replay`: every acknowledged event is then indexed exactly once.
 */
const errorTemplate = (type: 'long' | 'keyword') => ({
  name: 'fault-errors',
  index_patterns: ['logs-apm.error-*'],
  data_stream: {},
  priority: 500,
  template: { mappings: { properties: { processor: { properties: { event: { type } } } } } },
});

describe('fault: a full dead-letter queue', () => {
  let rig: FaultRig;
  beforeAll(async () => {
    rig = await FaultRig.start({
      proxy: { queue: { high_water_mark: { jobs: 200 } } },
      forwarder: { queue: { dead_letter: { max_entries: 100 } } },
    });
  });
  afterAll(() => rig.close());

  it('backs up instead of dropping, and delivers everything after the fix and a replay', async () => {
    const es = superuser(rig.standin);
    await es.indices.putIndexTemplate(errorTemplate('long'));
    const proxy = await rig.startProxy();
    const forwarder = await rig.startForwarder('forwarder');
    const load = rig.load({ senders: 4, eventsPerRequest: 10, withError: true, pauseMs: 20 });
    const started = Date.now();
    let proxyShedding = false;
    let forwarderBlocked = false;
    const rate = await rig.rateDuring(async () => {
      while (!(proxyShedding && forwarderBlocked) && Date.now() - started < 60_000) {
        await sleep(250);
        proxyShedding = (await proxy.admin('/readyz')).body.includes('shedding');
        forwarderBlocked = (await forwarder.admin('/readyz')).body.includes('SIDECAR_ERR_DLQ_FULL');
      }
      await sleep(2000);
    });
    const sent = await load.stop();
    const dropped = await forwarder.metric('apm_sidecar_dead_letter_dropped_total');

    // The operator's fix: a mapping that takes the field, a fresh backing index (as a rollover), then replay.
    await es.indices.putIndexTemplate(errorTemplate('keyword'));
    for (const [name, stream] of rig.standin.store.dataStreams) {
      if (!name.startsWith('logs-apm.error-')) continue;
      for (const backing of stream.backingIndices) rig.standin.store.indices.delete(backing);
      rig.standin.store.dataStreams.delete(name);
    }
    await es.close();
    const fixedAt = Date.now();
    await rig.cli(['dlq', 'replay']);
    let figures = await rig.oracle.settle(() => rig.indexedIds(), 60_000);
    if (figures.lost > 0) {
      // Entries dead-lettered by the backlog after the first replay began go back once more.
      await rig.cli(['dlq', 'replay']);
      figures = await rig.oracle.settle(() => rig.indexedIds(), 30_000);
    }
    recordScenario({
      scenario: 'dead-letter-full',
      fault: 'mapping conflict fills the dead-letter queue (max_entries 100); fixed, then dlq replay',
      ...figures,
      rateDuringFault: rate,
      drainSeconds: figures.drainSeconds === null ? null : (Date.now() - fixedAt) / 1000,
      notes: `${sent.byStatus['503'] ?? 0} of ${sent.requests} requests answered 503 while backed up; ${dropped} dead-letter entries dropped`,
    });
    expect(proxyShedding).toBe(true);
    expect(forwarderBlocked).toBe(true);
    expect(dropped).toBe(0);
    expect(figures).toMatchObject({ lost: 0, doubled: 0 });
    expect(await rig.send(1)).toBe(202);
    expect(rig.unexpectedErrors([/dead-letter queue is full/])).toEqual([]);
  }, 115_000);
});
