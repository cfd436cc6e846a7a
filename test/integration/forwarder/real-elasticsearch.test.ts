import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { loadConfig } from '../../../config/load';
import { documentId } from '../../../forwarder/document-id';
import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { provisionTestPrincipals, type TestPrincipals } from '../../support/elasticsearch/principals';
import { type EsCredentials, type EsTarget, esTarget, realTargetAvailable } from '../../support/es-target';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';
import { enqueue, errorLine, intakeJob, mergeDeep, otlpJob, transactionLine, waitFor } from './support';

(realTargetAvailable() ? describe : describe.skip)('forwarder against a real secured Elasticsearch', () => {
  let target: EsTarget;
  let principals: TestPrincipals;
  let redis: RedisServer;
  let connection: Redis;
  let forwarder: Forwarder | undefined;

  beforeAll(async () => {
    const real = await esTarget('real');
    if (real === undefined) throw new Error('real Elasticsearch unavailable');
    target = real;
    principals = await provisionTestPrincipals(target);
    redis = await RedisServer.start();
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  }, 240_000);
  afterAll(async () => {
    await forwarder?.close();
    connection.disconnect();
    await redis.destroy();
    await target.close();
  });
  afterEach(async () => {
    await forwarder?.close();
    forwarder = undefined;
  });

  async function start(credentials: EsCredentials, queueName: string, namespace: string): Promise<void> {
    const overrides = mergeDeep(
      { output: { elasticsearch: target.output(credentials) } },
      {
        admin: { host: '127.0.0.1:0' },
        server: { shutdown_timeout: '3s' },
        queue: { redis: { url: redis.url }, name: queueName },
        output: { elasticsearch: { flush_interval: '50ms', backoff: { init: '50ms', max: '500ms' } } },
        data_streams: { namespace },
        log: { level: 'warn' },
      },
    );
    forwarder = await startForwarder(loadConfig({ env: {}, overrides }).config, new LogSink().logger('forwarder'));
  }

  it('writes every event once into the APM data streams; a redelivery is a 409, not a second document', async () => {
    const namespace = `fw${randomUUID().slice(0, 8)}`;
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    const job = intakeJob([transactionLine(1), transactionLine(2), errorLine(3)]);
    await enqueue(queue, job);
    await start(principals.writer, queue.name, namespace);
    await waitFor('delivered', async () => (await queue.getJobCounts('completed')).completed === 1, 60_000);
    await queue.add('intake', job, { jobId: `${job.requestId}-again` });
    await waitFor('redelivered', async () => (await queue.getJobCounts('completed')).completed === 2, 60_000);
    const admin = target.client();
    await admin.indices.refresh({ index: `*-apm*-${namespace}` });
    const found = await admin.search({
      index: `traces-apm-${namespace},logs-apm.error-${namespace}`,
      size: 10,
      _source: false,
    });
    expect(found.hits.hits.map((h) => h._id).sort()).toEqual([0, 1, 2].map((i) => documentId(job.requestId, i)).sort());
    const metrics = await forwarder?.registry.getSingleMetricAsString('apm_sidecar_documents_total');
    expect(metrics).toMatch(/outcome="duplicate"[^\n]* 3/);
    await admin.close();
    await queue.close();
  });

  it('indexes an integer beyond 2^53 in context.custom exactly (the _source holds 9007199254740993)', async () => {
    const namespace = `fw${randomUUID().slice(0, 8)}`;
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    // JSON.stringify cannot write the literal: splice it into the line as an agent would send it.
    const line = transactionLine(7, { context: { custom: { big: 0 } } }).replace('"big":0', '"big":9007199254740993');
    const job = intakeJob([line]);
    await enqueue(queue, job);
    await start(principals.writer, queue.name, namespace);
    await waitFor('delivered', async () => (await queue.getJobCounts('completed')).completed === 1, 60_000);
    const admin = target.client();
    await admin.indices.refresh({ index: `traces-apm-${namespace}` });
    // Read the hit as text: the client's JSON.parse would round the number on the way back.
    const answer = await admin.transport.request(
      {
        method: 'GET',
        path: `/traces-apm-${namespace}/_search`,
        querystring: { filter_path: 'hits.hits._source.transaction.custom' },
      },
      { asStream: true },
    );
    const chunks: Buffer[] = [];
    for await (const chunk of answer as AsyncIterable<Buffer>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString('utf8')).toContain('"custom":{"big":9007199254740993}');
    await admin.close();
    await queue.close();
  });

  // Traces only: the logs fixture re-routes one record to logs-payments-*, outside the writer role; the metrics
  // fixture's histogram and summary against these templates: test/contract/metric-templates.contract.test.ts.
  it('indexes OTLP traces (the golden fixture: transactions, spans, a span-event log and an error), none refused', async () => {
    const namespace = `fw${randomUUID().slice(0, 8)}`;
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    const jobs = [otlpJob('traces')];
    for (const job of jobs) await enqueue(queue, job);
    await start(principals.writer, queue.name, namespace);
    await waitFor('delivered', async () => (await queue.getJobCounts('completed')).completed === jobs.length, 60_000);
    const dlq = new DeadLetterQueue(connection, queue.name, { maxEntries: 100, maxAgeMs: 60_000 });
    expect((await dlq.page(0, 100)).entries.map((e) => `${e.entry.dataStream}: ${e.entry.message}`)).toEqual([]);
    const admin = target.client();
    await admin.indices.refresh({ index: `*-${namespace}` });
    const found = await admin.search({ index: `*-${namespace}`, size: 100, _source: false });
    const indexed = await forwarder?.registry.getSingleMetricAsString('apm_sidecar_documents_total');
    expect(found.hits.hits.length).toBe(9);
    expect(indexed).toMatch(new RegExp(`outcome="indexed"[^\\n]* ${found.hits.hits.length}`));
    await admin.close();
    await queue.close();
  });

  it('refuses to take jobs without create_doc and names it on /readyz', async () => {
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    await enqueue(queue, intakeJob([transactionLine(5)]));
    await start(principals.noCreateDoc, queue.name, `fw${randomUUID().slice(0, 8)}`);
    await waitFor(
      'readyz names create_doc',
      () => {
        const state = forwarder?.readiness();
        return state !== undefined && !state.ready && state.reasons.join(' ').includes('create_doc');
      },
      60_000,
    );
    expect((await queue.getJobCounts('waiting')).waiting).toBe(1);
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it("dead-letters a real mapping error with Elasticsearch's reason", async () => {
    const namespace = `fw${randomUUID().slice(0, 8)}`;
    const admin = target.client();
    await admin.indices.putIndexTemplate({
      name: `apm-sidecar-test-broken-${namespace}`,
      index_patterns: [`logs-apm.error-${namespace}`],
      data_stream: {},
      priority: 1000,
      template: {
        mappings: {
          properties: { '@timestamp': { type: 'date' }, processor: { properties: { event: { type: 'long' } } } },
        },
      },
    });
    const queue = new Queue(`q-${randomUUID()}`, { connection });
    const job = intakeJob([transactionLine(7), errorLine(8)]);
    await enqueue(queue, job);
    await start(principals.writer, queue.name, namespace);
    await waitFor('job completed', async () => (await queue.getJobCounts('completed')).completed === 1, 60_000);
    const dlq = new DeadLetterQueue(connection, queue.name, { maxEntries: 10, maxAgeMs: 60_000 });
    const { entries } = await dlq.page(0, 10);
    expect(entries.map((e) => [e.entry.id, e.entry.reason, e.entry.status])).toEqual([
      [documentId(job.requestId, 1), 'document_parsing_exception', 400],
    ]);
    expect(entries[0]?.entry.message).toContain('processor.event');
    await admin.indices.deleteIndexTemplate({ name: `apm-sidecar-test-broken-${namespace}` });
    await admin.close();
    await queue.close();
  });
});
