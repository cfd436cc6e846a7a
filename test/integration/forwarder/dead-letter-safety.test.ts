import { randomUUID } from 'node:crypto';

import type { Redis } from 'ioredis';

import { runDlqList, runDlqReplay } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { documentId } from '../../../forwarder/document-id';
import { DeadLetterFullError, DeadLetterQueue, parseReplayJobData, replayJobName } from '../../../queue/dead-letter';
import { purgeDeadLetters } from '../../../queue/dead-letter/replay';
import type { EsStandin } from '../../support/es-standin/server';
import type { RedisServer } from '../../support/redis';
import {
  deadLetterEntry as entry,
  enqueue,
  errorLine,
  forwarderBed,
  intakeJob,
  superuser,
  transactionLine,
  waitFor,
} from './support';

/**
 * Issue 13: a full dead-letter queue dropped acknowledged documents by default; jobs a forwarder could not read
 * went to the failed set unseen and unreplayable; two concurrent `dlq replay` runs left entries behind.
 */
describe('dead-letter safety (real redis-server)', () => {
  const bed = forwarderBed();
  let redis: RedisServer;
  let standin: EsStandin;
  let connection: Redis;
  beforeEach(() => ({ redis, standin, connection } = bed));

  it('a full dead-letter queue refuses instead of dropping, unless drop_oldest is chosen', async () => {
    const dlq = new DeadLetterQueue(connection, `full-${randomUUID()}`, { maxEntries: 3, maxAgeMs: 60_000 });
    await dlq.add([entry(1), entry(2), entry(3)]);
    await expect(dlq.add([entry(4)])).rejects.toBeInstanceOf(DeadLetterFullError);
    // The same documents again replace their entries: that never needs room.
    expect(await dlq.add([entry(3)])).toBe(0);
    expect(await dlq.size()).toBe(3);
    expect(await dlq.droppedTotal()).toBe(0);
    const dropping = new DeadLetterQueue(connection, `drop-${randomUUID()}`, {
      maxEntries: 3,
      maxAgeMs: 60_000,
      whenFull: 'drop_oldest',
    });
    await dropping.add([entry(1), entry(2), entry(3)]);
    expect(await dropping.add([entry(4)])).toBe(1);
  });

  it('keeps dead-lettered documents of any age by default; drops by age only when max_age is set, and counts it', async () => {
    const defaults = loadConfig({ env: {}, overrides: {} }).config.queue.dead_letter;
    expect(defaults.max_age).toBe('0s');
    const year = 365 * 86_400_000;
    const now = Date.now();
    const keeping = new DeadLetterQueue(connection, `age-${randomUUID()}`, { maxEntries: 10, maxAgeMs: 0 });
    await keeping.add([entry(1)], now - year);
    expect(await keeping.add([entry(2)], now)).toBe(0);
    expect(await keeping.size()).toBe(2);
    expect(await keeping.droppedTotal()).toBe(0);
    const ageing = new DeadLetterQueue(connection, `age-${randomUUID()}`, { maxEntries: 10, maxAgeMs: 7 * 86_400_000 });
    await ageing.add([entry(1)], now - year);
    expect(await ageing.add([entry(2)], now)).toBe(1);
    expect(await ageing.size()).toBe(1);
    expect(await ageing.droppedTotal()).toBe(1);
  });

  it('two concurrent replays together put back every entry exactly once', async () => {
    const { queue } = bed;
    const queueName = queue.name;
    const dlq = new DeadLetterQueue(connection, queueName, { maxEntries: 10_000, maxAgeMs: 60_000 });
    const all = Array.from({ length: 1553 }, (_, i) => entry(i, i % 7 === 0 ? 'other' : 'document_parsing_exception'));
    for (let i = 0; i < all.length; i += 200) await dlq.add(all.slice(i, i + 200));
    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });
    const quiet = (): void => undefined;
    await Promise.all([
      runDlqReplay(loaded, { reason: undefined }, quiet, quiet),
      runDlqReplay(loaded, { reason: undefined }, quiet, quiet),
    ]);
    expect(await dlq.size()).toBe(0);
    const jobs = await queue.getJobs(['waiting']);
    const replayed = jobs
      .filter((j) => j.name === replayJobName)
      .flatMap((j) => parseReplayJobData(j.data).entries.map((e) => e.id));
    expect(replayed.length).toBe(all.length);
    expect(new Set(replayed).size).toBe(all.length);
  });

  it('a forwarder stops taking jobs while the dead-letter queue is full, says why, and goes on once there is room', async () => {
    const { queue, logs } = bed;
    const queueName = queue.name;
    const es = superuser(standin);
    await es.indices.putIndexTemplate({
      name: `long-event-${queueName}`,
      index_patterns: ['logs-apm.error-blocked*'],
      data_stream: {},
      priority: 600,
      template: { mappings: { properties: { processor: { properties: { event: { type: 'long' } } } } } },
    });
    await es.close();
    const dlq = new DeadLetterQueue(connection, queueName, { maxEntries: 3, maxAgeMs: 60_000 });
    await dlq.add([entry(1), entry(2), entry(3)]);
    const bad = intakeJob([errorLine(1), transactionLine(2)]);
    await enqueue(queue, bad);
    const forwarder = await bed.start({
      data_streams: { namespace: 'blocked' },
      queue: { dead_letter: { max_entries: 3 } },
    });
    await waitFor(
      'the forwarder says the dead-letter queue is full',
      () =>
        !forwarder.readiness().ready &&
        forwarder.readiness().details.code === 'SIDECAR_ERR_DLQ_FULL' &&
        JSON.stringify(forwarder.readiness()).includes('SIDECAR_ERR_DLQ_FULL'),
    );
    const later = intakeJob([transactionLine(3)]);
    await enqueue(queue, later);
    expect(await dlq.size()).toBe(3);
    expect(await dlq.droppedTotal()).toBe(0);
    // The operator makes room; the refused job is retried and its refused document stored, the next job delivered.
    expect(await purgeDeadLetters(dlq, { reason: undefined })).toBe(3);
    await waitFor('the refused document is dead-lettered', async () => (await dlq.size()) === 1, 30_000);
    await waitFor(
      'the waiting job is delivered',
      () => standin.documents('traces-apm-blocked').some((d) => d.id === documentId(later.requestId, 0)),
      30_000,
    );
    expect(forwarder.readiness().ready).toBe(true);
    expect(await dlq.droppedTotal()).toBe(0);
    logs.assertNoUnexpectedErrors([/dead-letter queue is full/, /past queue.dead_letter.max_age/]);
  }, 60_000);

  it('keeps a job it cannot read, counts and shows it, and replays it once the cause is fixed', async () => {
    const { queue, logs } = bed;
    const queueName = queue.name;
    const big = intakeJob(Array.from({ length: 20 }, (_, i) => transactionLine(100 + i)));
    await enqueue(queue, big);
    // A forwarder whose server.max_request_size is smaller than the proxies': it cannot decompress the body.
    const small = await bed.start({ server: { max_request_size: 1000 }, data_streams: { namespace: 'unreadable' } });
    await waitFor('the job is failed', async () => (await queue.getJobCounts('failed')).failed === 1);
    await waitFor(
      'readiness names it',
      () => JSON.stringify(small.readiness()).includes('"unreadable_jobs":1'),
      10_000,
    );
    expect(
      (await small.registry.getSingleMetricAsString('apm_sidecar_jobs_unreadable_total')).trim().split('\n').pop(),
    ).toMatch(/ 1$/);
    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });
    const listed: string[] = [];
    await runDlqList(loaded, { samples: 3 }, (l) => listed.push(l));
    expect(listed.join('\n')).toContain(`job ${big.requestId} (intake)`);
    expect(listed.join('\n')).toMatch(/unreadable_job: 1 jobs/);
    // The reason leads with the error's stable code.
    expect(listed.join('\n')).toContain(
      ': SIDECAR_ERR_JOB_CONTRACT: invalid intake job: body decompresses to more than',
    );
    await small.close();

    const fixed = await bed.start({ data_streams: { namespace: 'unreadable' } });
    const outs: string[] = [];
    const quiet = (): void => undefined;
    await Promise.all([
      runDlqReplay(loaded, { reason: undefined }, (l) => outs.push(l), quiet),
      runDlqReplay(loaded, { reason: undefined }, (l) => outs.push(l), quiet),
    ]);
    expect(outs.filter((l) => l.includes('unreadable jobs moved'))).toEqual([
      '1 unreadable jobs moved from the failed set back to waiting',
    ]);
    await waitFor(
      'the replayed job is delivered',
      () => standin.documents('traces-apm-unreadable').length === 20,
      30_000,
    );
    await waitFor(
      'nothing is left unreadable',
      () => !JSON.stringify(fixed.readiness()).includes('unreadable_jobs'),
      10_000,
    );
    logs.assertNoUnexpectedErrors([/job cannot be read/]);
  }, 60_000);
});
