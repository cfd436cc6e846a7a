import { Queue } from 'bullmq';

import { documentId } from '../../../forwarder/document-id';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { purgeDeadLetters } from '../../../queue/dead-letter/replay';
import { partitionsOf } from '../../../queue/partitions';
import {
  deadLetterEntry,
  enqueue,
  errorLine,
  forwarderBed,
  intakeJob,
  superuser,
  transactionLine,
  waitFor,
} from './support';

/**
 * Issue 17: each partition has its own dead-letter queue, so a full one stops only its own partition's jobs: the
 * forwarder goes on delivering the other partitions (before, one full partition paused all of them), says which
 * partition is blocked, and takes that partition's jobs again once there is room.
 */
describe('a full dead-letter queue with queue.partitions = 2 (real redis-server)', () => {
  const bed = forwarderBed();

  it('holds only the partition whose dead-letter queue is full; the other is delivered meanwhile', async () => {
    const { standin, connection, logs } = bed;
    const partitions = partitionsOf(bed.queue.name, 2);
    const [full, open] = partitions;
    if (full === undefined || open === undefined) throw new Error('two partitions expected');
    const queues = partitions.map((p) => new Queue(p.queueName, { connection }));
    const [fullQueue, openQueue] = queues as [Queue, Queue];
    try {
      const es = superuser(standin);
      // Error documents of this namespace are refused (processor.event must be a number): they are dead-lettered.
      await es.indices.putIndexTemplate({
        name: `long-event-${bed.queue.name}`,
        index_patterns: ['logs-apm.error-held*'],
        data_stream: {},
        priority: 600,
        template: { mappings: { properties: { processor: { properties: { event: { type: 'long' } } } } } },
      });
      await es.close();
      const dlq = new DeadLetterQueue(connection, full, { maxEntries: 3, maxAgeMs: 60_000 });
      await dlq.add([deadLetterEntry(1), deadLetterEntry(2), deadLetterEntry(3)]);
      await enqueue(fullQueue, intakeJob([errorLine(1), transactionLine(2)]));
      const forwarder = await bed.start({
        data_streams: { namespace: 'held' },
        queue: { partitions: 2, dead_letter: { max_entries: 3 } },
      });
      await waitFor(
        'the forwarder says the dead-letter queue of partition 0 is full',
        () =>
          forwarder.readiness().details.code === 'SIDECAR_ERR_DLQ_FULL' &&
          JSON.stringify(forwarder.readiness()).includes(`partition ${full.label}`),
      );
      const held = intakeJob([transactionLine(3)]);
      await enqueue(fullQueue, held);
      const delivered = intakeJob([transactionLine(4)]);
      await enqueue(openQueue, delivered);
      const indexed = (id: string): boolean => standin.documents('traces-apm-held').some((d) => d.id === id);
      await waitFor('the other partition is delivered while one is held', () =>
        indexed(documentId(delivered.requestId, 0)),
      );
      // The held partition's job waits for room: nothing of it was taken, nothing dropped.
      expect(await fullQueue.getWaitingCount()).toBe(1);
      expect(indexed(documentId(held.requestId, 0))).toBe(false);
      expect(await dlq.droppedTotal()).toBe(0);
      expect(forwarder.readiness().ready).toBe(false);

      expect(await purgeDeadLetters(dlq, { reason: undefined })).toBe(3);
      await waitFor('the held partition is delivered once there is room', () => indexed(documentId(held.requestId, 0)));
      await waitFor('the refused document is dead-lettered', async () => (await dlq.size()) === 1);
      expect(forwarder.readiness().ready).toBe(true);
      logs.assertNoUnexpectedErrors([/dead-letter queue of partition 0 is full/, /past queue.dead_letter.max_age/]);
    } finally {
      for (const queue of queues) {
        await queue.obliterate({ force: true });
        await queue.close();
      }
    }
  }, 60_000);
});
