import { randomUUID } from 'node:crypto';

import { type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Redis } from 'ioredis';

import { createRegistry } from '../../../core/metrics';
import { BulkBatcher } from '../../../forwarder/batch/bulk-batcher';
import { JobProcessor, quarantinedReason } from '../../../forwarder/job-processor';
import { JobStarts } from '../../../forwarder/job-starts';
import { ForwarderMetrics } from '../../../forwarder/metrics';
import type { BulkSink, BulkWriteResult, PreparedDocument } from '../../../forwarder/output/sink';
import { intakeJobName } from '../../../queue/contract';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import type { LogSink } from '../../support/log-sink';
import { forwarderBed, intakeJob, transactionLine } from './support';

/** Answers every document 201, after `delayMs`; counts the bulks. */
class SlowSink implements BulkSink {
  bulks = 0;
  constructor(private readonly delayMs: number) {}
  write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    this.bulks++;
    const items = documents.map(() => ({ kind: 'indexed' as const }));
    return new Promise((resolve) => setTimeout(() => resolve({ ok: true, items }), this.delayMs));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The unfinished starts of a job, kept in a real redis-server. A forwarder that dies leaves its start behind,
 * which is what `begin()` without `end()` leaves here: the same keys, in the same Redis.
 */
describe('a job whose processing kills forwarders is worked on alone, then quarantined (real redis-server)', () => {
  const bed = forwarderBed({ standin: false });
  let connection: Redis;
  let queue: Queue;
  let logs: LogSink;
  let registry: ReturnType<typeof createRegistry>;
  beforeEach(() => {
    ({ connection, queue, logs } = bed);
    registry = createRegistry('forwarder');
  });

  let batcher: BulkBatcher;
  function processor(starts: JobStarts, sink: BulkSink = new SlowSink(1), flushIntervalMs = 10_000): JobProcessor {
    batcher = new BulkBatcher(sink, {
      flushBytes: 1 << 20,
      flushIntervalMs,
      maxRequests: 2,
      maxSubmitters: 8,
      backoff: { initMs: 1, maxMs: 5 },
    });
    const deadLetters = new DeadLetterQueue(connection, queue.name, { maxEntries: 1000, maxAgeMs: 3_600_000 });
    return new JobProcessor(batcher, deadLetters, new ForwarderMetrics(registry), logs.logger(), {
      namespace: 'default',
      maxRequestBytes: 64 * 1024 * 1024,
      maxInflightBytes: 32 * 1024 * 1024,
      starts,
    });
  }

  async function addJob(events: number): Promise<Job> {
    const data = intakeJob(Array.from({ length: events }, (_, i) => transactionLine(i)));
    return queue.add(intakeJobName, data, { jobId: data.requestId });
  }

  it('counts only starts that never ended: shared, then alone after one death, quarantined after two deaths alone', async () => {
    const starts = new JobStarts(connection, queue.name);
    const id = randomUUID();
    expect(await starts.verdict(id)).toEqual({ kind: 'shared' });
    await starts.begin(id, false);
    await starts.end(id);
    expect(await starts.verdict(id)).toEqual({ kind: 'shared' });
    await starts.begin(id, false); // a forwarder died holding it, with other jobs
    expect(await starts.verdict(id)).toEqual({ kind: 'alone', unfinished: 1 });
    await starts.begin(id, true); // died again, alone with it
    expect(await starts.verdict(id)).toEqual({ kind: 'alone', unfinished: 2 });
    await starts.begin(id, true);
    starts.progress(id, 7);
    expect(await starts.verdict(id)).toMatchObject({ kind: 'quarantine', unfinished: 3, alone: 2 });
    expect(await starts.verdict(id)).toMatchObject({ last: expect.stringMatching(/at piece 7$/) as unknown });
  });

  it('processes a job with no unfinished start beside others and leaves no marker behind', async () => {
    const starts = new JobStarts(connection, queue.name);
    const p = processor(starts, new SlowSink(1), 20);
    const [a, b] = await Promise.all([addJob(50), addJob(50)]);
    if (a === undefined || b === undefined) throw new Error('no jobs');
    expect(await Promise.all([p.process(a), p.process(b)])).toEqual([
      { indexed: 50, duplicate: 0, deadLettered: 0 },
      { indexed: 50, duplicate: 0, deadLettered: 0 },
    ]);
    expect(await connection.keys(`apm-sidecar:{${queue.name}}:starts:*`)).toEqual([]);
    logs.assertNoUnexpectedErrors();
  });

  it('works on a suspect job alone: later jobs wait until it is done, and it does not wait for flush_interval', async () => {
    const starts = new JobStarts(connection, queue.name);
    const p = processor(starts, new SlowSink(50), 60_000);
    const suspect = await addJob(3000);
    const other = await addJob(10);
    await starts.begin(suspect.id ?? '', false); // the forwarder that held it died
    const order: string[] = [];
    const alone = p.process(suspect).then((s) => (order.push('suspect'), s));
    // Admitted after the suspect asked: it must not run beside it.
    await new Promise((r) => setTimeout(r, 20));
    const later = p.process(other).then((s) => (order.push('other'), s));
    const summary = await alone;
    expect(summary.indexed).toBe(3000);
    expect(order).toEqual(['suspect']);
    expect(await starts.verdict(suspect.id ?? '')).toEqual({ kind: 'shared' });
    // The other job runs shared: its last bulk waits for flush_interval unless flushed.
    let done = false;
    void later.then(() => (done = true));
    while (!done) {
      batcher.flush();
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(order).toEqual(['suspect', 'other']);
    expect(logs.lines.some((l) => /working on it alone/.test(String(l.msg)))).toBe(true);
    logs.assertNoUnexpectedErrors();
  }, 30_000);

  it('quarantines a job that two forwarders died on while it was alone: UnrecoverableError job_quarantined, counted, marker cleared', async () => {
    const starts = new JobStarts(connection, queue.name);
    const sink = new SlowSink(1);
    const p = processor(starts, sink);
    const job = await addJob(100);
    const id = job.id ?? '';
    await starts.begin(id, false);
    await starts.begin(id, true);
    await starts.begin(id, true);
    const failure = await p.process(job).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(UnrecoverableError);
    expect(String((failure as Error).message)).toMatch(new RegExp(`^${quarantinedReason}: the forwarder died 2 times`));
    expect(sink.bulks).toBe(0);
    expect(await registry.getSingleMetricAsString('apm_sidecar_jobs_quarantined_total')).toMatch(/ 1$/m);
    // Cleared, so that once replayed it starts afresh.
    expect(await starts.verdict(id)).toEqual({ kind: 'shared' });
    logs.assertNoUnexpectedErrors([new RegExp(`^${quarantinedReason}`)]);
  });
});
