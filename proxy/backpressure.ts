import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { InternalError, SidecarError } from '../core/errors';
import type { AgentErrorCode } from '../core/results';
import type { QueueConnection } from '../queue/connections';
import type { MasterSafety } from '../queue/redis-safety';

export interface HighWaterMark {
  readonly jobs: number;
  readonly bytes: number;
}

const gibibyte = 1024 ** 3;
/** A typical agent request as a job: its gzip body, base64, plus BullMQ's bookkeeping. */
const typicalJobBytes = 16 * 1024;

/**
 * queue.high_water_mark with 0 meaning "sized from Redis": bytes = half of maxmemory (1 GiB when maxmemory is
 * unset), so a full queue still leaves Redis room for BullMQ's own writes and for the forwarders to drain;
 * jobs = bytes / 16 KiB (a typical agent request), at least 1000.
 */
export function sizeHighWaterMark(configured: HighWaterMark, maxmemory: number): HighWaterMark {
  const bytes = configured.bytes > 0 ? configured.bytes : maxmemory > 0 ? Math.floor(maxmemory / 2) : gibibyte;
  const jobs = configured.jobs > 0 ? configured.jobs : Math.max(1000, Math.floor(bytes / typicalJobBytes));
  return { jobs, bytes };
}

export type QueueCondition =
  | { readonly state: 'open' }
  | { readonly state: 'full'; readonly reason: string }
  | { readonly state: 'unavailable'; readonly reason: string }
  /** Redis no longer gives the configured queue.durability (or evicts): a 202 would promise what it cannot keep. */
  | { readonly state: 'unsafe'; readonly reason: string };

export interface MonitorOptions {
  readonly intervalMs?: number;
  /** How often the masters' durability is re-read (MasterSafety's interval), for assertDurable's freshness. */
  readonly durabilityIntervalMs?: number;
  /** With no request admitted for `idleAfterMs`, Redis is polled only every `idleIntervalMs` (idle cost). */
  readonly idleAfterMs?: number;
  readonly idleIntervalMs?: number;
}

function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/**
 * Knows, without any I/O on the request path, whether a new request may be admitted. It polls the queue's
 * counts and Redis' used memory every ~250 ms; the connection's own state says at once when Redis is gone.
 * What the configured durability depends on (eviction policy, appendonly/appendfsync, replicas) is read again
 * after every reconnection, before anything is admitted, and every second: an operator who restarts Redis with
 * a weaker config gets 503s, not 202s that promise what Redis no longer keeps.
 *
 * With no traffic (nothing admitted for 2 s) it polls every 30 s instead, so an idle proxy costs Redis and
 * itself next to nothing. The first request after that starts a poll at once, and its job is added only after
 * that fresh read of Redis' durability (assertDurable waits for it), so idle never weakens what a 202 promises.
 */
export class QueueDepthMonitor {
  private condition: QueueCondition = { state: 'unavailable', reason: 'not polled yet' };
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly intervalMs: number;
  private readonly durabilityIntervalMs: number;
  /** Jobs waiting at the last poll (two-choices picks the shorter partition). */
  private lastBacklog = 0;
  private readonly idleAfterMs: number;
  private readonly idleIntervalMs: number;
  private lastAdmit = 0;
  private lastPoll = 0;
  private closed = false;

  /**
   * `queue` is one partition's queue; `master()` the Redis that serves it now (the one Redis, or the cluster
   * master owning its slot); `safety` the durability watch of each master; `connection` emits 'ready' on each
   * reconnection. `onBytes` gets the master's used memory at each poll.
   */
  constructor(
    private readonly queue: Queue,
    private readonly master: () => Redis | undefined,
    private readonly connection: QueueConnection,
    private readonly safety: MasterSafety,
    readonly highWaterMark: HighWaterMark,
    private readonly logger: Logger,
    private readonly onBytes: (bytes: number) => void,
    options: MonitorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 250;
    this.durabilityIntervalMs = options.durabilityIntervalMs ?? 1000;
    this.idleAfterMs = options.idleAfterMs ?? 2000;
    this.idleIntervalMs = Math.max(options.idleIntervalMs ?? 30_000, this.intervalMs);
    connection.on('ready', this.onReady);
  }

  /** Jobs waiting in this partition at the last poll. */
  backlog(): number {
    return this.lastBacklog;
  }

  private readonly onReady = (): void => void this.schedulePoll();

  async start(): Promise<void> {
    await this.poll();
    this.armTimer();
  }

  /** The next poll: soon while requests come, rarely when idle (the next request polls at once, see admit()). */
  private armTimer(): void {
    if (this.closed) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    const idle = Date.now() - this.lastAdmit >= this.idleAfterMs;
    const due = this.lastPoll + (idle ? this.idleIntervalMs : this.intervalMs);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.schedulePoll().finally(() => this.armTimer());
      },
      Math.max(0, due - Date.now()),
    );
    this.timer.unref();
  }

  private schedulePoll(): Promise<void> {
    this.polling ??= this.poll().finally(() => {
      this.polling = undefined;
      this.lastPoll = Date.now();
    });
    return this.polling;
  }

  /** The condition now: the connection's state, then Redis' durability, then the last poll of the depth. */
  current(): QueueCondition {
    const redis = this.master();
    if (redis === undefined) return { state: 'unavailable', reason: 'no Redis master serves this partition now' };
    if (redis.status !== 'ready') return { state: 'unavailable', reason: `Redis connection is ${redis.status}` };
    const safety = this.safety.of(redis).current();
    if (safety.state === 'unchecked') return { state: 'unavailable', reason: safety.reason };
    if (safety.state === 'unsafe') return { state: 'unsafe', reason: safety.reason };
    return this.condition;
  }

  /**
   * Throws the 503 a request gets when the queue cannot take it. After an idle spell the last poll may be seconds
   * old: the queue and Redis' durability are read again now (the job waits for that read, see assertDurable) and
   * polled at the busy pace from then on. A stale "open" lets the request start at once; a stale refusal (a full
   * queue that has drained since, a Redis that is back) is not trusted: the request waits for the fresh read.
   */
  async admit(): Promise<void> {
    const now = Date.now();
    const wasIdle = now - this.lastAdmit >= this.idleAfterMs;
    this.lastAdmit = now;
    if (wasIdle) {
      const redis = this.master();
      if (redis !== undefined) this.safety.of(redis).expire();
      const fresh = this.schedulePoll().finally(() => this.armTimer());
      if (this.current().state !== 'open') await fresh;
    }
    const condition = this.current();
    if (condition.state === 'full') throw refusal('SIDECAR_ERR_QUEUE_FULL', condition.reason);
    this.assertNow();
  }

  /**
   * Throws when Redis is gone or no longer durable enough; called again just before a job is added, since Redis
   * may have been restarted while the body streamed in. After an idle spell it first waits for a fresh read of
   * the durability (a read already under way may have started before; then one more).
   */
  async assertDurable(): Promise<void> {
    for (let i = 0; i < 2 && this.durabilityExpired(); i++) await this.schedulePoll();
    this.assertNow();
  }

  private durabilityExpired(): boolean {
    const redis = this.master();
    return redis?.status === 'ready' && this.safety.of(redis).expired(this.durabilityIntervalMs * 2);
  }

  private assertNow(): void {
    const condition = this.current();
    if (condition.state === 'unavailable') throw refusal('SIDECAR_ERR_QUEUE_UNAVAILABLE', condition.reason);
    if (condition.state === 'unsafe') throw refusal('SIDECAR_ERR_QUEUE_NOT_DURABLE', condition.reason);
  }

  private async poll(): Promise<void> {
    try {
      const redis = this.master();
      if (redis === undefined)
        throw new InternalError('SIDECAR_ERR_QUEUE_CONDITION', 'no Redis master serves this partition now');
      await this.safety.of(redis).check();
      const [counts, memory] = await Promise.all([
        this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
        redis.info('memory'),
      ]);
      const backlog = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
      const bytes = usedMemory(memory);
      this.lastBacklog = backlog;
      this.onBytes(bytes);
      this.update(this.judge(backlog + (counts.active ?? 0), backlog, bytes));
    } catch (err) {
      this.update({
        state: 'unavailable',
        reason: `cannot read the queue depth: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }

  /**
   * Admission counts what still has to be delivered. Redis' used memory stands for the bytes queued only while
   * something is queued: with nothing waiting or in hand, whatever holds the memory (retained completed jobs,
   * the dead-letter queue) is not relieved by refusing agents, so an empty queue always admits. A Redis that is
   * truly out of memory then refuses the write itself (noeviction), which is a 503 too.
   */
  private judge(undelivered: number, backlog: number, bytes: number): QueueCondition {
    const { jobs, bytes: maxBytes } = this.highWaterMark;
    if (backlog >= jobs) return { state: 'full', reason: `${backlog} jobs waiting, high-water mark ${jobs}` };
    if (undelivered > 0 && bytes >= maxBytes)
      return {
        state: 'full',
        reason: `Redis uses ${bytes} bytes with ${undelivered} jobs undelivered, high-water mark ${maxBytes}`,
      };
    return { state: 'open' };
  }

  private update(next: QueueCondition): void {
    if (next.state !== this.condition.state) {
      const line = { from: this.condition.state, to: next.state, reason: 'reason' in next ? next.reason : undefined };
      if (next.state === 'open') this.logger.info(line, 'queue accepts requests');
      else this.logger.warn(line, `queue is ${next.state}: intake answers 503 until it recovers`);
    }
    this.condition = next;
  }

  close(): Promise<void> {
    this.closed = true;
    this.connection.off('ready', this.onReady);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    return this.polling ?? Promise.resolve();
  }
}

/** The 503 of a queue that cannot take a request, with why as its cause (logged, never answered). */
function refusal(code: AgentErrorCode, reason: string): SidecarError {
  return new SidecarError(code, undefined, { cause: new InternalError('SIDECAR_ERR_QUEUE_CONDITION', reason) });
}

/**
 * A partition's high-water mark: with one partition, sizeHighWaterMark of the Redis. With several, a configured
 * jobs mark is shared out (each partition refuses at its 1/N, so the proxy's total stays the configured one), a
 * sized one is split between the partitions on the same master; the bytes mark is the master's (its used memory
 * is what each of its partitions compares).
 */
export function partitionHighWaterMark(
  configured: HighWaterMark,
  maxmemory: number,
  shares: { readonly partitions: number; readonly onThisMaster: number },
): HighWaterMark {
  const sized = sizeHighWaterMark(configured, maxmemory);
  if (shares.partitions === 1) return sized;
  const jobs =
    configured.jobs > 0
      ? Math.ceil(configured.jobs / shares.partitions)
      : Math.floor(sized.jobs / Math.max(1, shares.onThisMaster));
  return { jobs, bytes: sized.bytes };
}
