import { runtimeConfig } from '../../../config/runtime';
import { createEsClient } from '../../../elasticsearch/client';
import { missingItem } from '../../../forwarder/outcomes';
import { ElasticsearchSink } from '../../../forwarder/output/elasticsearch-sink';
import { prepareDocument } from '../../../forwarder/output/sink';
import type { FaultPlan } from '../../support/es-standin/faults';
import { EsStandin } from '../../support/es-standin/server';
import { createWriter, forwarderConfig, type Writer } from './support';

/** What the sink makes of each whole-request answer of the fault stand-in: the batcher acts on these kinds. */
describe('ElasticsearchSink request failures (stand-in faults)', () => {
  let standin: EsStandin;
  let writer: Writer;
  let sink: ElasticsearchSink;
  const docs = [0, 1, 2].map((i) =>
    prepareDocument(`rf.${i}`, {
      dataStream: 'traces-apm-rf',
      source: { '@timestamp': '2026-01-01T00:00:00.000Z', n: i },
    }),
  );

  beforeAll(async () => {
    standin = await EsStandin.start();
    writer = await createWriter(standin);
    const config = forwarderConfig(
      'redis://127.0.0.1:1',
      'unused',
      { standin, writer },
      { output: { elasticsearch: { timeout: '1s' } } },
    );
    sink = new ElasticsearchSink(createEsClient(runtimeConfig(config).elasticsearch));
  });
  afterAll(async () => {
    await sink.close();
    await standin.close();
  });

  const failureOf = async (faults: FaultPlan): Promise<unknown> => {
    standin.setFaults(faults);
    const result = await sink.write(docs);
    standin.setFaults({});
    return result.ok ? result.items : result.failure.kind;
  };

  it("treats a load balancer's HTML 404 or 502 (no x-elastic-product) as transient, never as a refusal", async () => {
    expect(await failureOf({ htmlAnswer: { status: 404 } })).toBe('retry');
    expect(await failureOf({ htmlAnswer: { status: 502 } })).toBe('retry');
  });

  it('splits on 413 (from the cluster or a proxy) and on an Elasticsearch 400; holds off on 503 and 429', async () => {
    expect(await failureOf({ tooLarge: { maxBytes: 10 } })).toBe('too_large');
    expect(await failureOf({ tooLarge: { maxBytes: 10, fromProxy: true } })).toBe('too_large');
    expect(await failureOf({ failRequests: { status: 400 } })).toBe('rejected');
    expect(await failureOf({ failRequests: { status: 503 } })).toBe('overloaded');
    expect(await failureOf({ failRequests: { status: 429 } })).toBe('overloaded');
    expect(await failureOf({ failRequests: { status: 500 } })).toBe('retry');
  });

  it('reports a hung bulk as a transient failure of that request', async () => {
    expect(await failureOf({ hangShare: 1 })).toBe('retry');
  });

  it('marks only the item an answer left out as missing', async () => {
    expect(await failureOf({ dropLastItemShare: 1 })).toEqual([
      { kind: 'duplicate' },
      { kind: 'duplicate' },
      missingItem,
    ]);
  });
});
