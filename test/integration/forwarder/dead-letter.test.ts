import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { runDlqList, runDlqPurge, runDlqReplay } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { documentId } from '../../../forwarder/document-id';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { enqueue, errorLine, forwarderBed, intakeJob, superuser, transactionLine, waitFor } from './support';

const errorTemplate = (eventType: 'long' | 'keyword'): Record<string, unknown> => ({
  index_patterns: ['logs-apm.error-*'],
  data_stream: {},
  priority: 500,
  template: { mappings: { properties: { processor: { properties: { event: { type: eventType } } } } } },
});

describe('dead-letter queue (real redis-server, Elasticsearch stand-in)', () => {
  const bed = forwarderBed();

  it('dead-letters mapping errors with the original event and reason, and replays them with the same _id after the fix', async () => {
    const { queue, logs, standin, redis } = bed;
    const queueName = queue.name;
    const es = superuser(standin);
    await es.indices.putIndexTemplate({ name: 'broken-errors', ...errorTemplate('long') });
    const job = intakeJob([transactionLine(1), errorLine(2), transactionLine(3), errorLine(4)]);
    await enqueue(queue, job);
    await bed.start();
    await waitFor('job completed', async () => (await queue.getJobCounts('completed')).completed === 1);
    expect(
      standin
        .documents('traces-apm*')
        .map((d) => d.id)
        .sort(),
    ).toEqual([documentId(job.requestId, 0), documentId(job.requestId, 2)]);

    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });
    const listed: string[] = [];
    await runDlqList(loaded, { samples: 1 }, (l) => listed.push(l));
    const text = listed.join('\n');
    expect(text).toMatch(/^2 dead-lettered documents/);
    expect(text).toContain('document_parsing_exception: 2');
    expect(text).toContain('failed to parse field [processor.event] of type [long]');
    expect(text).toContain('boom 4');

    const inspect = new Redis(redis.url);
    const dlq = new DeadLetterQueue(inspect, queueName, { maxEntries: 100, maxAgeMs: 60_000 });
    const page = await dlq.page(0, 10);
    expect(page.entries.map((e) => [e.entry.id, e.entry.jobId, e.entry.attempts, e.entry.status]).sort()).toEqual([
      [documentId(job.requestId, 1), job.requestId, 1, 400],
      [documentId(job.requestId, 3), job.requestId, 1, 400],
    ]);
    expect(page.entries[0]?.entry.event).toMatch(/^\{"error":/);

    // The fix: a correct template and, as a rollover would, a new backing index (the stand-in has no _rollover).
    await es.indices.putIndexTemplate({ name: 'broken-errors', ...errorTemplate('keyword') });
    for (const [name, stream] of standin.store.dataStreams) {
      if (!name.startsWith('logs-apm.error-')) continue;
      for (const backing of stream.backingIndices) standin.store.indices.delete(backing);
      standin.store.dataStreams.delete(name);
    }
    const progress: string[] = [];
    const replayOut: string[] = [];
    await runDlqReplay(
      loaded,
      { reason: 'document_parsing_exception' },
      (l) => replayOut.push(l),
      (l) => progress.push(l),
    );
    expect(replayOut.join('\n')).toMatch(/^2 dead-lettered documents put back/);
    expect(progress.length).toBeGreaterThan(0);
    await waitFor('replayed errors indexed', () => standin.documents('logs-apm.error-*').length === 2);
    expect(
      standin
        .documents('logs-apm.error-*')
        .map((d) => d.id)
        .sort(),
    ).toEqual([documentId(job.requestId, 1), documentId(job.requestId, 3)]);
    expect(await dlq.size()).toBe(0);
    inspect.disconnect();
    await es.close();
    logs.assertNoUnexpectedErrors();
  });

  it('keeps the dead-letter queue within its bounds and purges by reason', async () => {
    const { redis, queue } = bed;
    const queueName = queue.name;
    const connection = new Redis(redis.url);
    const dlq = new DeadLetterQueue(connection, `bounded-${randomUUID()}`, {
      maxEntries: 3,
      maxAgeMs: 60_000,
      whenFull: 'drop_oldest',
    });
    const entry = (n: number, reason: string) => ({
      id: `r.${n}`,
      jobId: 'r',
      lineIndex: n,
      dataStream: 'traces-apm-default',
      reason,
      status: 400,
      message: 'm',
      attempts: 1,
      deadLetteredAt: Date.now(),
      metadata: '{"metadata":{}}',
      event: '{"span":{}}',
      context: {
        receivedAt: 0,
        client: { ip: '127.0.0.1', userAgent: null },
        identity: { kind: 'anonymous' as const },
      },
    });
    await dlq.add([entry(1, 'a'), entry(2, 'a')], 1_000);
    await dlq.add([entry(2, 'a')], 2_000);
    expect(await dlq.size()).toBe(2);
    expect(await dlq.add([entry(3, 'b'), entry(4, 'b')], 3_000)).toBe(1);
    expect((await dlq.page(0, 10)).entries.map((e) => e.entry.id)).toEqual(['r.2', 'r.3', 'r.4']);
    expect(await dlq.add([entry(5, 'b')], 3_000 + 60_001)).toBe(3);
    expect(await dlq.droppedTotal()).toBe(4);
    connection.disconnect();

    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });
    const mainConnection = new Redis(redis.url);
    const mainDlq = new DeadLetterQueue(mainConnection, queueName, { maxEntries: 100, maxAgeMs: 60_000 });
    await mainDlq.add([entry(1, 'x'), entry(2, 'y'), entry(3, 'x')]);
    const out: string[] = [];
    await runDlqPurge(loaded, { reason: 'x', yes: true }, (l) => out.push(l));
    expect(out).toEqual(['2 dead-lettered documents deleted (reason x)']);
    expect((await mainDlq.page(0, 10)).entries.map((e) => e.entry.reason)).toEqual(['y']);
    mainConnection.disconnect();
  });
});
