import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq';

import type { Logger } from '../core/log';
import type { QueueConnection } from '../queue/connections';
import { workerLockDurationMs, workerMaxStalledCount } from '../queue/job-options';
import type { JobProcessor, JobSummary } from './job-processor';
import { reclaimOwnOrphans } from './orphan-reclaim';

export interface ForwarderWorkerOptions {
  readonly queueName: string;
  readonly concurrency: number;
  readonly connection: QueueConnection;
  /**
   * Names a job the processor cannot read before BullMQ moves it to the failed set (kept there whole, shown by
   * `dlq list`, replayed by `dlq replay`). If naming it fails, the job is retried instead: never failed silently.
   */
  readonly onUnreadable?: (job: Job<unknown, JobSummary>, reason: string) => Promise<void>;
  /** Each job BullMQ settles: completed, or an attempt failed (retried unless unreadable); not a hand-back. */
  readonly onSettled?: (result: 'completed' | 'failed') => void;
}

/**
 * The BullMQ worker: up to `concurrency` jobs at once, each handed to the processor, which waits on the shared
 * batcher. Pausing stops taking jobs (a rejected credential) without touching the ones in hand. On a shutdown
 * that runs out of time, the jobs still in hand are moved back to waiting so another forwarder takes them at
 * once, instead of after their lock expires.
 */
export class ForwarderWorker {
  private readonly worker: Worker<unknown, JobSummary>;
  private readonly inHand = new Map<string, { job: Job<unknown, JobSummary>; token: string; handBack: () => void }>();
  private running: Promise<void> | undefined;
  private pausedFor: string | undefined;
  private reclaiming: Promise<void> | undefined;
  private closing = false;
  private readonly onReady = (): void => this.reclaimAfterReconnect();
  /** Jobs handed to process() so far, and those there now (the liveness check reads both). */
  private taken = 0;
  private holding = 0;

  constructor(
    private readonly options: ForwarderWorkerOptions,
    private readonly processor: JobProcessor,
    private readonly logger: Logger,
  ) {
    this.worker = new Worker<unknown, JobSummary>(options.queueName, (job, token) => this.process(job, token), {
      connection: options.connection,
      concurrency: Math.max(options.concurrency, 1),
      autorun: false,
      lockDuration: workerLockDurationMs,
      maxStalledCount: workerMaxStalledCount,
      // A dead forwarder's jobs are handed on once their 30 s lock lapses; checking every 10 s instead of
      // BullMQ's 30 s cuts the worst-case delay from 60 s to 40 s for one cheap script per interval.
      stalledInterval: 10_000,
      // A new job wakes the blocked BZPOPMIN at once; this is only how often a worker of an empty queue asks again
      // (BullMQ's 5 s: a moveToActive script and a BZPOPMIN each time, the most of an idle forwarder's Redis work).
      drainDelay: 30,
    });
    // The connection is up before this worker exists: every 'ready' from now on is a reconnection.
    options.connection.on('ready', this.onReady);
    this.worker.on('error', (err) =>
      this.logger.warn({ err }, 'queue connection error; the worker reconnects by itself'),
    );
    this.worker.on('completed', () => options.onSettled?.('completed'));
    this.worker.on('failed', (job, err) => {
      options.onSettled?.('failed');
      if (job !== undefined)
        this.logger.warn(
          { err, jobId: job.id, attempts: job.attemptsMade },
          'job failed; it is retried unless unreadable',
        );
    });
  }

  private async process(job: Job<unknown, JobSummary>, token: string | undefined): Promise<JobSummary> {
    this.taken++;
    this.holding++;
    const key = job.id ?? '';
    try {
      if (this.pausedFor !== undefined && token !== undefined) {
        // A fetch already under way when we paused can still deliver a job: give it straight back.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      // BullMQ takes a job by moving its id from `wait` to `active` and then reading its hash; when the hash is
      // gone, the move itself writes a stub (only `processedOn`, `ats`, `pb`): the job arrives without name or data.
      if (typeof job.name !== 'string' || job.name === '') {
        const missing = "no name, no data: the job's hash was gone when it was taken from the queue";
        this.logger.error(
          { jobId: job.id, missing },
          'job has no payload in Redis (its hash was gone when this forwarder took it): kept in the failed set and named unreadable; see docs/operations.md, "Jobs whose payload is gone"',
        );
        throw new UnrecoverableError(`job payload missing in Redis: ${missing}`);
      }
      // WaitingError tells BullMQ the job was moved back to waiting by us: neither completed nor failed. The
      // processor stops sending the job's next pieces once it is aborted.
      const abort = new AbortController();
      const handedBack = new Promise<never>((_resolve, reject) => {
        if (token !== undefined)
          this.inHand.set(key, {
            job,
            token,
            handBack: () => {
              abort.abort();
              reject(new WaitingError());
            },
          });
      });
      return await Promise.race([this.processor.process(job, abort.signal), handedBack]);
    } catch (err) {
      // Named before BullMQ moves it to the failed set (a payload gone, or a job the processor cannot read).
      if (err instanceof UnrecoverableError) await this.options.onUnreadable?.(job, err.message);
      throw err;
    } finally {
      this.inHand.delete(key);
      this.holding--;
    }
  }

  /**
   * A second after a reconnection (BullMQ's resent commands have their answers by then), moves back to waiting the
   * jobs this worker took whose answer Redis never sent (forwarder/orphan-reclaim.ts): ~4 s instead of ~40 s.
   */
  private reclaimAfterReconnect(): void {
    if (this.closing || this.running === undefined) return;
    this.reclaiming ??= delay(1000)
      .then(() =>
        reclaimOwnOrphans(this.worker, this.options.connection, (id) => this.inHand.has(id), this.logger, 3000),
      )
      .then(
        () => undefined,
        (err: unknown) => this.logger.debug({ err }, 'looking for orphaned jobs after a reconnection failed'),
      )
      .finally(() => {
        this.reclaiming = undefined;
      });
  }

  /** Starts taking jobs (after the preconditions passed). */
  start(): void {
    this.running ??= this.worker
      .run()
      .catch((err: unknown) => this.logger.error({ err }, 'worker stopped unexpectedly'));
  }

  /** Jobs BullMQ has handed this worker since it was made. */
  get jobsTaken(): number {
    return this.taken;
  }

  /** True while BullMQ would take another job (it holds fewer than its concurrency). */
  get hasRoom(): boolean {
    return this.holding < this.worker.concurrency;
  }

  /** Stops taking new jobs; jobs in hand go on. */
  pause(reason: string): void {
    if (this.pausedFor !== undefined) return;
    this.pausedFor = reason;
    void this.worker.pause(true).catch((err: unknown) => this.logger.warn({ err }, 'pausing the worker failed'));
  }

  resume(): void {
    if (this.pausedFor === undefined) return;
    this.pausedFor = undefined;
    this.worker.resume();
  }

  /** Waits up to `timeoutMs` for the jobs in hand; then hands the rest back to the queue and closes. */
  async close(timeoutMs: number): Promise<void> {
    this.closing = true;
    this.options.connection.off('ready', this.onReady);
    // BullMQ emits an 'error' nobody can listen to (and the process dies of it) when a worker is closed while its
    // blocking connection is still connecting, e.g. on a SIGTERM right after start: let it connect first, for a
    // bounded time in case Redis is down (a connection failure is reported by the worker's own error handling).
    await Promise.race([this.worker.waitUntilReady().catch(() => undefined), delay(Math.min(timeoutMs, 5000))]);
    const graceful = this.worker.close();
    const timedOut = await Promise.race([graceful.then(() => false), delay(timeoutMs).then(() => true)]);
    if (!timedOut) return;
    const left = [...this.inHand.values()];
    this.logger.warn({ jobs: left.length }, 'shutdown timeout: handing unfinished jobs back to the queue');
    await Promise.allSettled(
      left.map(async ({ job, token, handBack }) => {
        try {
          await job.moveToWait(token);
        } finally {
          // Even if Redis refused the move, the job's lock lapses and stalled-job recovery hands it on.
          handBack();
        }
      }),
    );
    await graceful;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
