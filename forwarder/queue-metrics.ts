import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

import { metricPrefix } from '../core/metrics';
import type { DeadLetterQueue } from '../queue/dead-letter';
import type { UnreadableJobs } from '../queue/dead-letter/unreadable';
import type { Partition } from '../queue/partitions';

const states = ['waiting', 'active', 'delayed', 'failed'] as const;

/** What is read of one partition at scrape time. */
export interface PartitionQueues {
  readonly partition: Partition;
  readonly queue: Queue;
  readonly deadLetters: DeadLetterQueue;
  readonly unreadable: UnreadableJobs;
}

/**
 * Queue depth and the age of the oldest waiting job, read from Redis at scrape time, per partition (label
 * `partition`): what an autoscaler needs (depth says how much, age says how late). A scrape while Redis (or a
 * partition's master) is down keeps that partition's last values.
 */
export function registerQueueMetrics(registry: Registry, partitions: readonly PartitionQueues[]): void {
  const registers = [registry];
  const each = async (read: (p: PartitionQueues, partition: string) => Promise<void>): Promise<void> => {
    await Promise.all(partitions.map((p) => read(p, p.partition.label).catch(() => undefined)));
  };
  new Gauge({
    name: `${metricPrefix}queue_jobs`,
    help: 'Jobs in the intake queue by state (waiting, active, delayed, failed).',
    labelNames: ['state', 'partition'],
    registers,
    async collect() {
      await each(async ({ queue }, partition) => {
        const counts = await queue.getJobCounts(...states);
        for (const state of states) this.set({ state, partition }, counts[state] ?? 0);
      });
    },
  });
  new Gauge({
    name: `${metricPrefix}queue_oldest_waiting_job_age_seconds`,
    help: 'Age of the oldest job waiting to be taken (0 when none waits).',
    labelNames: ['partition'],
    registers,
    async collect() {
      await each(async ({ queue }, partition) => this.set({ partition }, await oldestWaitingAgeSeconds(queue)));
    },
  });
  new Gauge({
    name: `${metricPrefix}dead_letter_entries`,
    help: 'Documents in the dead-letter queue (shared by all forwarders of the queue).',
    labelNames: ['partition'],
    registers,
    async collect() {
      await each(async ({ deadLetters }, partition) => this.set({ partition }, await deadLetters.size()));
    },
  });
  new Gauge({
    name: `${metricPrefix}unreadable_jobs`,
    help: 'Jobs no forwarder could read, kept whole in the failed set until `apm-sidecar dlq replay` (shared by all forwarders of the queue).',
    labelNames: ['partition'],
    registers,
    async collect() {
      await each(async ({ unreadable }, partition) => this.set({ partition }, await unreadable.count()));
    },
  });
}

/** BullMQ pushes new jobs at the head of the wait list, so the oldest is the first in ascending order. */
export async function oldestWaitingAgeSeconds(queue: Queue, now = Date.now()): Promise<number> {
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  return oldest === undefined ? 0 : Math.max(0, (now - oldest.timestamp) / 1000);
}
