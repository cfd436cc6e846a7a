import type { Job } from 'bullmq';

import { createRegistry } from '../../../core/metrics';
import { BulkBatcher } from '../../../forwarder/batch/bulk-batcher';
import { documentId } from '../../../forwarder/document-id';
import { JobProcessor } from '../../../forwarder/job-processor';
import { ForwarderMetrics } from '../../../forwarder/metrics';
import type { BulkSink, BulkWriteResult, PreparedDocument } from '../../../forwarder/output/sink';
import { intakeJobName } from '../../../queue/contract';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { forwarderBed, intakeJob, transactionLine } from './support';

/** An index that answers like Elasticsearch for `create`: 201 for a new `_id`, 409 for one it holds. */
class IndexSink implements BulkSink {
  readonly ids = new Map<string, number>();
  write(documents: readonly PreparedDocument[]): Promise<BulkWriteResult> {
    const items = documents.map((d) => {
      const n = (this.ids.get(d.id) ?? 0) + 1;
      this.ids.set(d.id, n);
      return n === 1 ? { kind: 'indexed' as const } : { kind: 'duplicate' as const };
    });
    return new Promise((resolve) => setTimeout(() => resolve({ ok: true, items }), 2));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The real batcher, watched: how many documents of submit() calls are waiting for their outcomes at once. */
class WatchedBatcher extends BulkBatcher {
  outstanding = 0;
  maxOutstanding = 0;
  override async submit(documents: readonly PreparedDocument[]): ReturnType<BulkBatcher['submit']> {
    this.outstanding += documents.length;
    this.maxOutstanding = Math.max(this.maxOutstanding, this.outstanding);
    try {
      return await super.submit(documents);
    } finally {
      this.outstanding -= documents.length;
    }
  }
}

describe('a large intake job is worked on in pieces (real redis-server)', () => {
  const bed = forwarderBed({ standin: false, assertLogs: true });

  function processor(
    sink: BulkSink,
    chunkBytes: number,
    submitBytes = 128 * 1024,
  ): { processor: JobProcessor; batcher: WatchedBatcher } {
    const { connection, queue, logs } = bed;
    const batcher = new WatchedBatcher(sink, {
      flushBytes: 64 * 1024,
      flushIntervalMs: 20,
      maxRequests: 2,
      maxSubmitters: 8,
      backoff: { initMs: 1, maxMs: 5 },
    });
    const deadLetters = new DeadLetterQueue(connection, queue.name, { maxEntries: 1000, maxAgeMs: 3_600_000 });
    const metrics = new ForwarderMetrics(createRegistry('forwarder'));
    const p = new JobProcessor(batcher, deadLetters, metrics, logs.logger(), {
      namespace: 'default',
      maxRequestBytes: 64 * 1024 * 1024,
      chunkBytes,
      submitBytes,
    });
    return { processor: p, batcher };
  }

  it('sends every event once with its position id, holding a bounded number of documents, and a redelivery is all 409s', async () => {
    // Empty lines count as positions (as when the job is decoded whole): ids must not depend on the cutting.
    const lines = Array.from({ length: 12_000 }, (_, i) =>
      i % 1000 === 500 ? '' : transactionLine(i, { context: { custom: { pad: 'x'.repeat(200) } } }),
    );
    const data = intakeJob(lines);
    const job: Job = await bed.queue.add(intakeJobName, data, { jobId: data.requestId });
    const sink = new IndexSink();
    const chunkBytes = 64 * 1024;
    const { processor: p, batcher } = processor(sink, chunkBytes);

    const first = await p.process(job);
    const expected = lines.flatMap((l, i) => (l === '' ? [] : [documentId(data.requestId, i)]));
    expect(first).toEqual({ indexed: expected.length, duplicate: 0, deadLettered: 0 });
    expect([...sink.ids.keys()].sort()).toEqual([...expected].sort());
    // Two submissions of 128 KiB of documents (each at most one 64 KiB piece over it, its documents a few times
    // its lines) wait at once, never the job.
    const shortest = Math.min(...lines.filter((l) => l !== '').map((l) => l.length));
    expect(batcher.maxOutstanding).toBeLessThanOrEqual((2 * (128 * 1024 + 4 * chunkBytes)) / shortest);
    expect(batcher.maxOutstanding).toBeLessThan(expected.length / 4);

    const again = await p.process(job);
    expect(again).toEqual({ indexed: 0, duplicate: expected.length, deadLettered: 0 });
    expect([...sink.ids.values()].every((n) => n === 2)).toBe(true);
  }, 60_000);

  it('stops sending pieces once the job is handed back (shutdown), after the pieces already sent have outcomes', async () => {
    const lines = Array.from({ length: 6000 }, (_, i) => transactionLine(i));
    const data = intakeJob(lines);
    const job: Job = await bed.queue.add(intakeJobName, data, { jobId: data.requestId });
    const sink = new IndexSink();
    const { processor: p } = processor(sink, 32 * 1024);
    const abort = new AbortController();
    const processing = p.process(job, abort.signal);
    while (sink.ids.size === 0) await new Promise((r) => setTimeout(r, 5));
    abort.abort();
    await expect(processing).rejects.toThrow(/handed back/);
    const sent = sink.ids.size;
    expect(sent).toBeLessThan(lines.length);
    await new Promise((r) => setTimeout(r, 100));
    expect(sink.ids.size).toBe(sent);
  }, 60_000);
});
