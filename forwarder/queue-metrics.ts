import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';

import { metricPrefix } from '../core/metrics';
import type { DeadLetterQueue } from '../queue/dead-letter';
import type { UnreadableJobs } from '../queue/dead-letter/unreadable';

const states = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * Queue depth and the age of the oldest waiting job, read from Redis at scrape time: what an autoscaler needs
 * (depth says how much, age says how late). A scrape while Redis is down keeps the last values.
 */
export function registerQueueMetrics(
  registry: Registry,
  queue: Queue,
  deadLetters: DeadLetterQueue,
  unreadable: UnreadableJobs,
): void {
  const registers = [registry];
  new Gauge({
    name: `${metricPrefix}queue_jobs`,
    help: 'Jobs in the intake queue by state (waiting, active, delayed, failed).',
    labelNames: ['state'],
    registers,
    async collect() {
      try {
        const counts = await queue.getJobCounts(...states);
        for (const state of states) this.set({ state }, counts[state] ?? 0);
      } catch {
        return;
      }
    },
  });
  new Gauge({
    name: `${metricPrefix}queue_oldest_waiting_job_age_seconds`,
    help: 'Age of the oldest job waiting to be taken (0 when none waits).',
    registers,
    async collect() {
      try {
        this.set(await oldestWaitingAgeSeconds(queue));
      } catch {
        return;
      }
    },
  });
  new Gauge({
    name: `${metricPrefix}dead_letter_entries`,
    help: 'Documents in the dead-letter queue (shared by all forwarders of the queue).',
    registers,
    async collect() {
      try {
        this.set(await deadLetters.size());
      } catch {
        return;
      }
    },
  });
  new Gauge({
    name: `${metricPrefix}unreadable_jobs`,
    help: 'Jobs no forwarder could read, kept whole in the failed set until `apm-sidecar dlq replay` (shared by all forwarders of the queue).',
    registers,
    async collect() {
      try {
        this.set(await unreadable.count());
      } catch {
        return;
      }
    },
  });
}

/** BullMQ pushes new jobs at the head of the wait list, so the oldest is the first in ascending order. */
export async function oldestWaitingAgeSeconds(queue: Queue, now = Date.now()): Promise<number> {
  const [oldest] = await queue.getJobs(['wait'], 0, 0, true);
  return oldest === undefined ? 0 : Math.max(0, (now - oldest.timestamp) / 1000);
}
