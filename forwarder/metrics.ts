import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

import { metricPrefix } from '../core/metrics';
import type { BatcherObserver } from './batch/bulk-batcher';
import type { DocumentOutcome } from './outcomes';

/** The forwarder's own metrics (queue depth is collected separately, at scrape time). */
export class ForwarderMetrics {
  readonly documents: Counter<'outcome'>;
  readonly documentRetries: Counter;
  readonly bulkDuration: Histogram<'result'>;
  readonly bulksInFlight: Gauge;
  readonly documentsWaitingForRetry: Gauge;
  readonly retryBackoffSeconds: Gauge;
  readonly jobs: Counter<'result'>;
  readonly deadLetterDropped: Counter;
  readonly jobsUnreadable: Counter;
  readonly jobsQuarantined: Counter;
  readonly workerRestarts: Counter<'partition'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.documents = new Counter({
      name: `${metricPrefix}documents_total`,
      help: 'Documents by final outcome: indexed, duplicate (already indexed: a redelivery), dead_lettered. A sum counts documents.',
      labelNames: ['outcome'],
      registers,
    });
    this.documentRetries = new Counter({
      name: `${metricPrefix}document_retries_total`,
      help: 'Retry attempts of documents Elasticsearch answered 429 or 5xx (one per document per retry; not documents).',
      registers,
    });
    this.bulkDuration = new Histogram({
      name: `${metricPrefix}bulk_request_duration_seconds`,
      help: 'Latency of bulk requests, by result (ok, retry, auth, rejected).',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.bulksInFlight = new Gauge({
      name: `${metricPrefix}bulk_requests_in_flight`,
      help: 'Bulk requests in flight.',
      registers,
    });
    this.documentsWaitingForRetry = new Gauge({
      name: `${metricPrefix}documents_waiting_for_retry`,
      help: 'Documents waiting out a retry backoff.',
      registers,
    });
    this.retryBackoffSeconds = new Gauge({
      name: `${metricPrefix}retry_backoff_seconds`,
      help: 'The latest retry delay chosen (exponential with full jitter); 0 after a successful bulk.',
      registers,
    });
    this.jobs = new Counter({
      name: `${metricPrefix}forwarder_jobs_total`,
      help: 'Jobs settled by BullMQ, by result: completed, or failed (an attempt failed; retried unless unreadable).',
      labelNames: ['result'],
      registers,
    });
    this.jobsUnreadable = new Counter({
      name: `${metricPrefix}jobs_unreadable_total`,
      help: 'Jobs this forwarder could not read (kept in the failed set, listed by `apm-sidecar dlq list`, replayed by `dlq replay`).',
      registers,
    });
    this.jobsQuarantined = new Counter({
      name: `${metricPrefix}jobs_quarantined_total`,
      help: 'Jobs set aside whole because forwarders died twice while working on them alone (kept in the failed set, listed by `apm-sidecar dlq list`, replayed by `dlq replay`).',
      registers,
    });
    this.workerRestarts = new Counter({
      name: `${metricPrefix}worker_restarts_total`,
      help: 'Workers closed and made again by the liveness check, by partition: the worker had room and took no job while jobs waited (a blocking connection that did not recover after a failover).',
      labelNames: ['partition'],
      registers,
    });
    this.deadLetterDropped = new Counter({
      name: `${metricPrefix}dead_letter_dropped_total`,
      help: 'Dead-letter entries dropped to stay within queue.dead_letter.max_entries / max_age.',
      registers,
    });
  }

  countDocuments(outcome: DocumentOutcome['kind'], n = 1): void {
    if (n > 0) this.documents.inc({ outcome }, n);
  }

  /** The batcher's events, as metrics. */
  batcherObserver(): BatcherObserver {
    return {
      bulkStarted: (_docs, _bytes, inFlight) => this.bulksInFlight.set(inFlight),
      bulkFinished: (ms, result, inFlight) => {
        this.bulkDuration.observe({ result }, ms / 1000);
        this.bulksInFlight.set(inFlight);
        if (result === 'ok') this.retryBackoffSeconds.set(0);
      },
      itemsRetried: (count, waiting, delayMs) => {
        if (count > 0) this.documentRetries.inc(count);
        this.documentsWaitingForRetry.set(waiting);
        this.retryBackoffSeconds.set(delayMs / 1000);
      },
      retryReleased: (waiting) => this.documentsWaitingForRetry.set(waiting),
    };
  }
}
