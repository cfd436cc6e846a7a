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
      name: 'bulk-413-elasticsearch',
      fault: 'every bulk over 20 kB (gzip) answered 413 by the cluster',
      jobs: 400,
      eventsPerJob: 20,
      padding: 400,
      faultMs: 5000,
      faults: { tooLarge: { maxBytes: 20_000 } },
    });
    expect(figures.faultsApplied['tooLarge']).toBeGreaterThan(0);
    expect({ lost: figures.lost, doubled: figures.doubled, deadLettered: figures.deadLettered }).toEqual({
      lost: 0,
      doubled: 0,
      deadLettered: 0,
    });
    harness.logs.assertNoUnexpectedErrors();
  });

  it('splits bulks a reverse proxy refuses with an HTML 413, and dead-letters only a document over the limit, naming its size', async () => {
    const figures = await harness.run({
      name: 'bulk-413-proxy',
      fault: 'a reverse proxy answers HTML 413 over 2 kB (each document is 2.5 kB), then `dlq replay`',
      jobs: 100,
      eventsPerJob: 20,
      padding: 2500,
      faultMs: 4000,
      faults: { tooLarge: { maxBytes: 2_000, fromProxy: true } },
      replayAfter: true,
      forwarder: { output: { elasticsearch: { compression_level: 0 } } },
    });
    // Uncompressed, one padded transaction document is over 2,000 bytes alone: each is dead-lettered with its size
    // while the fault is on (the operator's to fix: raise the proxy's limit), and `dlq replay` brings them back.
    expect(figures.faultsApplied['tooLarge']).toBeGreaterThan(0);
    expect(figures.deadLettered).toBeGreaterThan(0);
    expect({ lost: figures.lost, doubled: figures.doubled }).toEqual({ lost: 0, doubled: 0 });
    for (const entry of figures.deadLetters)
      expect(entry.entry.message).toMatch(/^a single document of \d+ bytes is over the request size limit/);
    harness.logs.assertNoUnexpectedErrors();
  });
});
