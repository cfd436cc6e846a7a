import { runDlqList, runDlqPurge, runDlqReplay } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { documentId } from '../../../forwarder/document-id';
import type { Forwarder } from '../../../forwarder/forwarder';
import { type DeadLetterEntry, DeadLetterQueue } from '../../../queue/dead-letter';
import { type Partition, partitionsOf } from '../../../queue/partitions';
import { DeliveryOracle } from '../../support/oracle';
import { enqueue, forwarderBed, intakeJob, mergeDeep, metadataLine, transactionLine, waitFor } from './support';

const partitionCount = 3;
const maxRequests = 2;

/** Bulk requests that took 250 ms or more: only those can have given up their slot (the batcher's slow threshold). */
function slowBulks(metrics: string): number {
  let count = 0;
  let fast = 0;
  for (const m of metrics.matchAll(/^apm_sidecar_bulk_request_duration_seconds_count\{[^}]*\} (\d+)$/gm))
    count += Number(m[1]);
  for (const m of metrics.matchAll(/^apm_sidecar_bulk_request_duration_seconds_bucket\{le="0\.25"[^}]*\} (\d+)$/gm))
    fast += Number(m[1]);
  return count - fast;
}

describe('a forwarder over queue.partitions = 3 on one real redis-server', () => {
  const bed = forwarderBed({ partitions: partitionCount });
  let forwarder: Forwarder | undefined;
  let namespace = '';
  let testNumber = 0;
  const partitions = (): Partition[] => partitionsOf(bed.queueName, partitionCount);

  beforeEach(() => {
    namespace = `p${++testNumber}`;
    bed.standin.setFaults({});
    bed.standin.resetCounters();
  });

  // The bed closes the test's forwarders after it; this is the one whose admin port /metrics reads.
  const start = async (overrides: Record<string, unknown> = {}): Promise<Forwarder> =>
    (forwarder = await bed.start(mergeDeep({ data_streams: { namespace } }, overrides)));
  const indexedIds = (): string[] => bed.standin.documents(`traces-apm*-${namespace}`).map((d) => d.id);
  const completed = async (): Promise<number[]> =>
    Promise.all(bed.partitionQueues.map(async (q) => (await q.getJobCounts('completed')).completed ?? 0));

  /** `jobs` intake jobs of 10 events on every partition; their ids are acknowledged to the oracle. */
  async function fill(oracle: DeliveryOracle, jobs: number, from = 0): Promise<void> {
    for (const [p, queue] of bed.partitionQueues.entries()) {
      for (let j = 0; j < jobs; j++) {
        const seq = (p * 1000 + from + j) * 10;
        const job = intakeJob(Array.from({ length: 10 }, (_, i) => transactionLine(seq + i)));
        await enqueue(queue, job);
        oracle.acknowledge(Array.from({ length: 10 }, (_, i) => documentId(job.requestId, i)));
      }
    }
  }

  async function metrics(): Promise<string> {
    return (await fetch(`http://127.0.0.1:${forwarder?.admin.port ?? 0}/metrics`)).text();
  }

  it('delivers the jobs of every partition exactly once, never more bulks in flight than one forwarder may send', async () => {
    // Answers slow enough that bulks overlap (the bound is reached), fast enough that none goes slow.
    bed.standin.setFaults({ delay: { ms: 120 } });
    const oracle = new DeliveryOracle();
    await fill(oracle, 20);
    forwarder = await start({
      forwarder: { concurrency: 6 },
      output: { elasticsearch: { max_requests: maxRequests, flush_bytes: 4096 } },
    });
    await waitFor('every partition drained', async () => (await completed()).every((n) => n === 20), 60_000);
    const figures = oracle.check(indexedIds());
    expect({ lost: figures.lost, doubled: figures.doubled, indexed: figures.indexed }).toEqual({
      lost: 0,
      doubled: 0,
      indexed: 3 * 20 * 10,
    });
    const text = await metrics();
    // One batcher for the process: three partitions do not make three times output.elasticsearch.max_requests. A
    // bulk that went slow gives up its slot by design, so each such bulk may add one.
    expect(bed.standin.counters.bulkInFlightPeak).toBeGreaterThan(0);
    expect(bed.standin.counters.bulkInFlightPeak).toBeLessThanOrEqual(maxRequests + slowBulks(text));
    for (const p of partitions())
      expect(text).toContain(`apm_sidecar_queue_jobs{state="waiting",partition="${p.label}",role="forwarder"} 0`);
    bed.logs.assertNoUnexpectedErrors();
  });

  it('a restarted forwarder consumes every partition, also what was queued while none ran', async () => {
    const oracle = new DeliveryOracle();
    await fill(oracle, 5);
    forwarder = await start();
    await waitFor('first round drained', async () => (await completed()).every((n) => n === 5));
    await forwarder.close();
    forwarder = undefined;
    await fill(oracle, 5, 5);
    expect(await Promise.all(bed.partitionQueues.map((q) => q.getWaitingCount()))).toEqual([5, 5, 5]);
    forwarder = await start();
    await waitFor('second round drained', async () => (await completed()).every((n) => n === 10));
    const figures = await oracle.settle(indexedIds, 10_000);
    expect({ lost: figures.lost, doubled: figures.doubled }).toEqual({ lost: 0, doubled: 0 });
    bed.logs.assertNoUnexpectedErrors();
  });

  it('dlq list, replay and purge cover every partition; a replay goes back onto its own partition', async () => {
    const loaded = loadConfig({
      env: {},
      overrides: { queue: { redis: { url: bed.redis.url }, name: bed.queueName, partitions: partitionCount } },
    });
    const entry = (p: number, n: number, reason: string): DeadLetterEntry => {
      const requestId = `r${p}`;
      const line = transactionLine(p * 100 + n);
      return {
        id: documentId(requestId, n),
        jobId: requestId,
        lineIndex: n,
        dataStream: `traces-apm-${namespace}`,
        reason,
        status: 400,
        message: `refused in partition ${p}`,
        attempts: 1,
        deadLetteredAt: Date.now(),
        metadata: metadataLine,
        event: line,
        context: {
          receivedAt: Date.now(),
          client: { ip: '127.0.0.1', userAgent: null },
          identity: { kind: 'anonymous' },
        },
      };
    };
    const dlqs = partitions().map((p) => new DeadLetterQueue(bed.connection, p, { maxEntries: 100, maxAgeMs: 0 }));
    for (const [p, dlq] of dlqs.entries())
      await dlq.add([
        entry(p, 1, 'mapper_parsing_exception'),
        entry(p, 2, 'mapper_parsing_exception'),
        entry(p, 3, 'x'),
      ]);
    // The single queue of the same name holds none of them: each partition has its own keys.
    expect(await new DeadLetterQueue(bed.connection, bed.queueName, { maxEntries: 1, maxAgeMs: 0 }).size()).toBe(0);

    const listed: string[] = [];
    expect(await runDlqList(loaded, { samples: 5 }, (l) => listed.push(l))).toBe(0);
    expect(listed[0]).toBe(`9 dead-lettered documents in queue ${bed.queueName}`);
    for (const p of partitions()) expect(listed).toContain(`  partition ${p.label} (${p.queueName}): 3`);
    expect(listed).toContain('\nmapper_parsing_exception: 6');
    for (const p of partitions())
      expect(listed.some((l) => l.includes(`job r${p.index} (partition ${p.label})`))).toBe(true);

    const replayed: string[] = [];
    expect(
      await runDlqReplay(
        loaded,
        { reason: 'mapper_parsing_exception' },
        (l) => replayed.push(l),
        () => undefined,
      ),
    ).toBe(0);
    expect(replayed[0]).toMatch(/^6 dead-lettered documents put back/);
    expect(replayed[1]).toBe('  each on its own partition: partition 0: 2, partition 1: 2, partition 2: 2');
    expect(await Promise.all(bed.partitionQueues.map((q) => q.getWaitingCount()))).toEqual([1, 1, 1]);
    expect(await Promise.all(dlqs.map((d) => d.size()))).toEqual([1, 1, 1]);

    forwarder = await start();
    const oracle = new DeliveryOracle();
    oracle.acknowledge(partitions().flatMap((p) => [documentId(`r${p.index}`, 1), documentId(`r${p.index}`, 2)]));
    const figures = await oracle.settle(indexedIds, 30_000);
    expect({ lost: figures.lost, doubled: figures.doubled, indexed: figures.indexed }).toEqual({
      lost: 0,
      doubled: 0,
      indexed: 6,
    });

    const purged: string[] = [];
    expect(await runDlqPurge(loaded, { reason: 'x', yes: true }, (l) => purged.push(l))).toBe(0);
    expect(purged).toEqual(['3 dead-lettered documents deleted (reason x)']);
    expect(await Promise.all(dlqs.map((d) => d.size()))).toEqual([0, 0, 0]);
    bed.logs.assertNoUnexpectedErrors();
  });
});
