import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { documentId } from '../../../forwarder/document-id';
import { createWriter, enqueue, intakeJob, transactionLine, waitFor } from '../../integration/forwarder/support';
import { EsStandin } from '../../support/es-standin/server';
import { RedisServer } from '../../support/redis';
import { CliProcess, forwarderProcessConfig } from './processes';

describe('forwarder processes (spawned CLI, real redis-server, stand-in)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let queue: Queue;
  let connection: Redis;
  let config: Record<string, unknown>;
  const processes: CliProcess[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
    const writer = await createWriter(standin);
    const queueName = `q-${randomUUID()}`;
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    queue = new Queue(queueName, { connection });
    config = forwarderProcessConfig(redis.url, queueName, { url: standin.url, caFile: standin.caFile, ...writer });
  });
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.destroy()));
    await queue.close();
    connection.disconnect();
    await standin.close();
    await redis.destroy();
  });
  beforeEach(() => standin.setFaults({}));

  it('two forwarders on one queue write every event once and both do work', async () => {
    const jobs = Array.from({ length: 200 }, (_, j) =>
      intakeJob(Array.from({ length: 10 }, (_, i) => transactionLine(j * 10 + i))),
    );
    // Slow bulks so that one forwarder cannot drain the queue before the other one starts.
    standin.setFaults({ delay: { ms: 50 } });
    const [a, b] = await Promise.all([
      CliProcess.start('fwd-a', 'forwarder', config),
      CliProcess.start('fwd-b', 'forwarder', config),
    ]);
    if (a === undefined || b === undefined) throw new Error('not started');
    processes.push(a, b);
    await waitFor(
      'both ready',
      async () => (await a.admin('/readyz')).status === 200 && (await b.admin('/readyz')).status === 200,
    );
    await Promise.all(jobs.map((job) => enqueue(queue, job)));
    await waitFor(
      'all jobs completed',
      async () => (await queue.getJobCounts('completed')).completed === jobs.length,
      60_000,
    );
    const ids = standin
      .documents('traces-apm*')
      .map((d) => d.id)
      .sort();
    expect(ids).toEqual(
      jobs.flatMap((job) => Array.from({ length: 10 }, (_, i) => documentId(job.requestId, i))).sort(),
    );
    const [byA, byB] = await Promise.all([
      a.metric('apm_sidecar_documents_total', 'outcome="indexed"'),
      b.metric('apm_sidecar_documents_total', 'outcome="indexed"'),
    ]);
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
    expect(byA + byB).toBe(2000);
    await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
    expect((await a.exited).code).toBe(0);
    expect((await b.exited).code).toBe(0);
    expect([...a.errors(), ...b.errors()]).toEqual([]);
  });

  it('SIGTERM during a bulk: the bulk finishes, the process exits 0, nothing is lost or doubled', async () => {
    const jobs = Array.from({ length: 20 }, (_, j) =>
      intakeJob(Array.from({ length: 5 }, (_, i) => transactionLine(100_000 + j * 5 + i))),
    );
    const before = standin.documents('traces-apm*').length;
    const fwd = await CliProcess.start('fwd-term', 'forwarder', config);
    processes.push(fwd);
    await waitFor('ready', async () => (await fwd.admin('/readyz')).status === 200);
    standin.setFaults({ delay: { ms: 1500 } });
    const bulksBefore = standin.counters.requests;
    await Promise.all(jobs.map((job) => enqueue(queue, job)));
    await waitFor('a bulk in flight', () => standin.counters.requests > bulksBefore);
    const exit = await fwd.kill('SIGTERM');
    expect(exit.code).toBe(0);
    expect(fwd.lines.some((l) => l.msg === 'drained, exiting')).toBe(true);
    standin.setFaults({});
    // Whatever it did not take stays queued; a second forwarder finishes it.
    const next = await CliProcess.start('fwd-next', 'forwarder', config);
    processes.push(next);
    await waitFor(
      'all jobs completed',
      async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= 200 + jobs.length,
      60_000,
    );
    const ids = standin.documents('traces-apm*').map((d) => d.id);
    expect(ids.length - before).toBe(100);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...fwd.errors(), ...next.errors()]).toEqual([]);
    await next.kill('SIGTERM');
  });

  it('SIGTERM with a bulk slower than shutdown_timeout: the jobs are handed back at once, exit 0, no loss', async () => {
    const jobs = Array.from({ length: 10 }, (_, j) =>
      intakeJob(Array.from({ length: 3 }, (_, i) => transactionLine(200_000 + j * 3 + i))),
    );
    const before = standin.documents('traces-apm*').length;
    const completedBefore = (await queue.getJobCounts('completed')).completed ?? 0;
    const fwd = await CliProcess.start('fwd-slow', 'forwarder', { ...config, server: { shutdown_timeout: '1s' } });
    processes.push(fwd);
    await waitFor('ready', async () => (await fwd.admin('/readyz')).status === 200);
    standin.setFaults({ delay: { ms: 5000 } });
    const requestsBefore = standin.counters.requests;
    await Promise.all(jobs.map((job) => enqueue(queue, job)));
    await waitFor('a bulk in flight', () => standin.counters.requests > requestsBefore);
    expect((await fwd.kill('SIGTERM')).code).toBe(0);
    expect(fwd.lines.some((l) => l.msg === 'shutdown timeout: handing unfinished jobs back to the queue')).toBe(true);
    // Handed back, not stalled: they are waiting again right away, not after the 30 s lock.
    expect((await queue.getJobCounts('active')).active).toBe(0);
    standin.setFaults({});
    const next = await CliProcess.start('fwd-after', 'forwarder', config);
    processes.push(next);
    await waitFor(
      'all completed',
      async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= completedBefore + jobs.length,
      60_000,
    );
    await waitFor('the slow bulk landed too', () => standin.documents('traces-apm*').length - before >= 30);
    const ids = standin.documents('traces-apm*').map((d) => d.id);
    expect(ids.length - before).toBe(30);
    expect(new Set(ids).size).toBe(ids.length);
    await next.kill('SIGTERM');
  });
});
