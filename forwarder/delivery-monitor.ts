import type { Client } from '@elastic/elasticsearch';

import type { Logger } from '../core/log';
import type { RedisSafety } from '../queue/redis-safety';
import type { BackoffPolicy } from './backoff';
import type { BatcherObserver } from './batch/bulk-batcher';
import { isApmIndex, isMissingTemplate } from './outcomes';
import type { RequestFailure } from './output/sink';
import type { JobTaker } from './partition-workers';
import { type DeliveryState, waitForPreconditions } from './preconditions';

const authRemedy: Record<number, string> = {
  401: 'the output.elasticsearch credential (username/password or api_key) is wrong, expired or invalidated: set a valid one (apm-sidecar setup --create-writer-api-key prints one)',
  403: 'the credential lacks a writer privilege: grant cluster monitor and auto_configure + create_doc on traces-apm*, logs-apm*, metrics-apm* (apm-sidecar setup creates the apm_sidecar_writer role)',
};

/**
 * Decides when the worker may take jobs: after the Elasticsearch preconditions pass, and again after a bulk was
 * refused for its credential (401/403): then the worker pauses instead of spinning, the jobs stay queued, and
 * the preconditions are re-checked with backoff until the credential works. Also what /readyz reports.
 */
export class DeliveryMonitor {
  private state: DeliveryState = { ready: false, code: 'starting', reason: 'checking the Elasticsearch preconditions' };
  private draining = false;
  private started = false;
  private probing: Promise<void> | undefined;
  private worker: JobTaker | undefined;
  private failing: RequestFailure['kind'] | undefined;
  /** The partitions (labels) whose dead-letter queue is full: their jobs are not taken, the others' are. */
  private readonly deadLetterFull = new Set<string>();
  private severalPartitions = false;
  /** Redis evicts (maxmemory-policy not noeviction): queued events could vanish, so no job is taken. */
  private redisUnsafe: { readonly code: string; readonly reason: string } | undefined;
  private readonly abort = new AbortController();
  /** Data stream -> when a document for it was last refused for a missing template (bounded: see itemRejected). */
  private readonly missingTemplates = new Map<string, number>();

  constructor(
    private readonly client: Client | undefined,
    private readonly logger: Logger,
    private readonly backoff: BackoffPolicy,
  ) {}

  /** The workers (of every partition) it starts, pauses and resumes. */
  attach(worker: JobTaker): void {
    this.worker = worker;
  }

  start(): void {
    if (this.client === undefined) {
      this.state = { ready: true };
      this.takeJobs();
      return;
    }
    this.probe();
  }

  stop(): void {
    this.draining = true;
    this.abort.abort();
  }

  readiness(): DeliveryState {
    if (this.draining) return { ready: false, code: 'shutting_down', reason: 'draining after SIGTERM' };
    if (this.redisUnsafe !== undefined)
      return {
        ready: false,
        code: this.redisUnsafe.code,
        reason: `${this.redisUnsafe.reason}: not taking jobs until Redis runs maxmemory-policy noeviction again`,
      };
    if (this.deadLetterFull.size > 0 && this.state.ready) {
      return {
        ready: false,
        code: 'SIDECAR_ERR_DLQ_FULL',
        reason: `the dead-letter queue${this.fullPartitions()} is full (queue.dead_letter.max_entries): not taking jobs${this.fullPartitions(' of')} until \`apm-sidecar dlq replay\` or \`purge\` makes room`,
      };
    }
    const warnings = this.templateWarnings();
    return this.state.ready && warnings.length > 0 ? { ...this.state, warnings } : this.state;
  }

  /** Data streams whose documents were refused for a missing index template in the last ten minutes. */
  private templateWarnings(): string[] {
    const since = Date.now() - 600_000;
    const names = [...this.missingTemplates].filter(([, at]) => at >= since).map(([name]) => name);
    if (names.length === 0) return [];
    return [
      `documents for ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} were dead-lettered: no index template with data_stream matches them. Run \`apm-sidecar setup\`, then \`apm-sidecar dlq replay\``,
    ];
  }

  /**
   * The dead-letter queue of partition `partition` (its label) refused documents (queue.dead_letter.when_full
   * block): stop taking that partition's jobs, so it backs up and the proxies shed it at its high-water mark (and
   * send to the other partitions) instead of anything being dropped; the job that could not store its documents is
   * retried. The other partitions, each with its own dead-letter queue, go on. Takes the partition's jobs again
   * once `hasRoom` says so (checked every `checkMs`). `several`: there is more than one partition (logs name it).
   */
  deadLetterQueueFull(partition: string, several: boolean, hasRoom: () => Promise<boolean>, checkMs = 2000): void {
    if (this.deadLetterFull.has(partition)) return;
    this.deadLetterFull.add(partition);
    if (several) this.severalPartitions = true;
    const which = several ? { partition } : {};
    this.logger.error(
      { code: 'SIDECAR_ERR_DLQ_FULL', ...which },
      `the dead-letter queue${several ? ` of partition ${partition}` : ''} is full (queue.dead_letter.max_entries, when_full block): stopped taking jobs${several ? ' of that partition (the others go on)' : ''}; nothing is dropped, the queue backs up. To remediate: fix the cause, then \`apm-sidecar dlq replay\` (or \`dlq purge\`), or raise queue.dead_letter.max_entries`,
    );
    this.worker?.holdPartition(partition, 'dead-letter queue full');
    const wait = async (): Promise<void> => {
      while (!this.draining) {
        await new Promise((r) => setTimeout(r, checkMs).unref());
        if (await hasRoom().catch(() => false)) break;
      }
      this.deadLetterFull.delete(partition);
      if (this.draining) return;
      // Held apart from the other reasons: a pause of all (credential, eviction policy) keeps it stopped still.
      this.worker?.releasePartition(partition);
      this.logger.info(which, 'the dead-letter queue has room again: taking jobs from the queue');
    };
    void wait();
  }

  /** ` of partition(s) 1, 2` (after `prefix`) when there are several partitions, else nothing. */
  private fullPartitions(prefix = ''): string {
    if (!this.severalPartitions) return '';
    const labels = [...this.deadLetterFull].sort();
    return `${prefix} of partition${labels.length > 1 ? 's' : ''} ${labels.join(', ')}`;
  }

  /**
   * Redis' eviction policy, re-read on every reconnection and every second (queue/redis-safety.ts): with any
   * policy but noeviction Redis may delete queued jobs to make room, so the forwarder stops taking jobs and
   * /readyz says why; it takes them again once the policy is back.
   */
  redisSafety(next: RedisSafety): void {
    if (next.state === 'unsafe') {
      if (this.redisUnsafe === undefined) {
        this.logger.error(
          { code: next.code, reason: next.reason },
          'Redis may evict queued jobs: stopped taking jobs until it runs maxmemory-policy noeviction again. To remediate: run `CONFIG SET maxmemory-policy noeviction` and put it in redis.conf',
        );
        this.worker?.pause('Redis eviction policy');
      }
      this.redisUnsafe = { code: next.code, reason: next.reason };
    } else if (next.state === 'safe' && this.redisUnsafe !== undefined) {
      this.redisUnsafe = undefined;
      if (!this.mayTakeJobs()) return;
      this.worker?.resume();
      this.logger.info('Redis runs maxmemory-policy noeviction again: taking jobs from the queue');
    }
  }

  /**
   * Nothing stops the workers: not draining, the credential works, Redis does not evict. (A partition whose
   * dead-letter queue is full stays held by itself: PartitionWorkers.holdPartition.)
   */
  private mayTakeJobs(): boolean {
    return !this.draining && this.failing !== 'auth' && this.redisUnsafe === undefined;
  }

  observer(): BatcherObserver {
    return {
      requestFailed: (failure) => this.onRequestFailed(failure),
      itemRejected: (dataStream, errorType, reason) => {
        // A re-routed data stream (outside the APM patterns) is not something setup can fix: its documents are
        // dead-lettered with what to grant (refusalMessage), and readiness stays as it is.
        if (!isMissingTemplate(errorType, reason) || !isApmIndex(dataStream)) return;
        if (!this.missingTemplates.has(dataStream)) {
          this.logger.warn(
            { dataStream },
            'no index template with data_stream matches this data stream: its documents are dead-lettered until `apm-sidecar setup` installs the templates',
          );
        }
        this.missingTemplates.delete(dataStream);
        this.missingTemplates.set(dataStream, Date.now());
        if (this.missingTemplates.size > 100)
          this.missingTemplates.delete(this.missingTemplates.keys().next().value ?? '');
      },
      requestSucceeded: () => {
        if (this.failing !== undefined && this.failing !== 'auth') this.logger.info('bulk requests succeed again');
        if (this.failing !== 'auth') this.failing = undefined;
      },
    };
  }

  private takeJobs(): void {
    if (!this.started) {
      this.started = true;
      this.worker?.start();
      if (this.redisUnsafe !== undefined) this.worker?.pause('Redis eviction policy');
      else this.logger.info('taking jobs from the queue');
    } else if (this.mayTakeJobs()) {
      this.worker?.resume();
      this.logger.info('credential accepted again: taking jobs from the queue');
    }
  }

  private probe(): void {
    const client = this.client;
    if (client === undefined || this.probing !== undefined) return;
    this.probing = waitForPreconditions(client, this.logger, {
      backoff: this.backoff,
      signal: this.abort.signal,
      onState: (s) => {
        this.state = s;
      },
    }).then((ready) => {
      this.probing = undefined;
      if (!ready) return;
      this.failing = undefined;
      this.takeJobs();
    });
  }

  private onRequestFailed(failure: RequestFailure): void {
    if (failure.kind === 'auth') {
      if (this.failing !== 'auth') {
        const status = failure.status ?? 0;
        this.logger.error(
          { status, reason: failure.reason },
          `Elasticsearch refused a bulk request (${status}): stopped taking jobs; they stay queued and the documents in hand are retried until the credential works. To remediate: ${authRemedy[status] ?? authRemedy[401]}`,
        );
        this.state = {
          ready: false,
          code: status === 403 ? 'SIDECAR_ERR_ES_PRIVILEGES' : 'SIDECAR_ERR_ES_AUTH',
          reason: failure.reason,
        };
        this.worker?.pause('credential rejected');
      }
      this.failing = 'auth';
      if (!this.draining) this.probe();
      return;
    }
    if (this.failing === undefined) {
      this.logger.warn(
        { kind: failure.kind, status: failure.status, errorType: failure.errorType, reason: failure.reason },
        'bulk request failed; its documents are retried with backoff',
      );
    }
    this.failing ??= failure.kind;
  }
}
