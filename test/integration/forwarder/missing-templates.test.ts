import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';
import { createWriter, enqueue, forwarderConfig, intakeJob, transactionLine, waitFor } from './support';

/**
 * require_data_stream=true on every bulk: on a cluster without the APM index templates, documents are not
 * written into plain indices created on the fly; each is dead-lettered with a reason that names the fix, and
 * readiness says so.
 */
describe('forwarder on a cluster without the APM index templates', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let forwarder: Forwarder | undefined;
  const logs = new LogSink();

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
  });
  afterAll(async () => {
    await forwarder?.close();
    await standin.close();
    await redis.destroy();
  });

  it('dead-letters each document naming `apm-sidecar setup`, creates no plain index, and readiness warns', async () => {
    const writer = await createWriter(standin);
    standin.setFaults({ missingApmTemplates: true });
    const queueName = `tpl-${randomUUID()}`;
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection });
    await enqueue(queue, intakeJob([transactionLine(1), transactionLine(2)]));
    forwarder = await startForwarder(
      forwarderConfig(redis.url, queueName, { standin, writer }, { data_streams: { namespace: 'notpl' } }),
      logs.logger('forwarder', 'info'),
    );
    await waitFor('the job completed', async () => (await queue.getJobCounts('completed')).completed === 1);
    expect(standin.documents('traces-apm*')).toEqual([]);
    const dead = (
      await new DeadLetterQueue(connection, queueName, { maxEntries: 100, maxAgeMs: 86_400_000 }).page(0, 10)
    ).entries.map((e) => e.entry);
    expect(dead).toHaveLength(2);
    for (const entry of dead) {
      expect(entry.reason).toBe('index_not_found_exception');
      expect(entry.message).toMatch(/\[require_data_stream\] request flag is \[true\].*run `apm-sidecar setup`/);
    }
    const readiness = forwarder.readiness();
    expect(readiness.ready).toBe(true);
    expect(readiness.reasons).toEqual([]);
    expect((readiness.details.warnings as string[] | undefined)?.[0]).toMatch(/traces-apm-notpl.*apm-sidecar setup/);
    await queue.close();
    connection.disconnect();
    logs.assertNoUnexpectedErrors();
  });
});
