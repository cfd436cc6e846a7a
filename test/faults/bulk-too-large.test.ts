import { FaultHarness } from './support/harness';

/**
 * A whole-bulk 413 (a reverse proxy's client_max_body_size, the cluster's http.max_content_length): the bulk
 * is split and the halves retried, so every acknowledged event is indexed; only a single document over the
 * limit is dead-lettered, with its size in the reason.
 */
describe('fault: whole-bulk 413 over a size', () => {
  let harness: FaultHarness;
  beforeAll(async () => {
    harness = await FaultHarness.start();
  });
  afterAll(() => harness.close());
  afterEach(() => harness.stopRun());

  it('splits bulks answered 413 by Elasticsearch and indexes every event once', async () => {
    const figures = await harness.run({
      name: 'bulk-413-elasticsearch', jobs: 400, eventsPerJob: 20, padding: 400, faultMs: 5000,
      faults: { tooLarge: { maxBytes: 20_000 } },
    });
    expect(figures.faultsApplied['tooLarge']).toBeGreaterThan(0);
    expect({ lost: figures.lost, doubled: figures.doubled, deadLettered: figures.deadLettered }).toEqual({ lost: 0, doubled: 0, deadLettered: 0 });
    harness.logs.assertNoUnexpectedErrors();
  });

  it('splits bulks a reverse proxy refuses with an HTML 413, and dead-letters only a document over the limit, naming its size', async () => {
    const figures = await harness.run({
      name: 'bulk-413-proxy', jobs: 100, eventsPerJob: 20, padding: 2500, faultMs: 4000,
      faults: { tooLarge: { maxBytes: 2_000, fromProxy: true } },
      forwarder: { output: { elasticsearch: { compression_level: 0 } } },
    });
    // Uncompressed, one padded transaction document is over 2,000 bytes alone: each is dead-lettered with its size
    // while the fault is on; those that waited for a retry until it cleared are indexed.
    expect(figures.faultsApplied['tooLarge']).toBeGreaterThan(0);
    expect(figures.doubled).toBe(0);
    expect(figures.indexed + figures.deadLettered).toBe(figures.acknowledged);
    expect(figures.deadLettered).toBeGreaterThan(0);
    for (const entry of figures.deadLetters) expect(entry.entry.message).toMatch(/^a single document of \d+ bytes is over the request size limit/);
    harness.logs.assertNoUnexpectedErrors();
  });
});
