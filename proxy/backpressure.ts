import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { SidecarError } from '../core/errors';
import type { ProxyMetrics } from './metrics';

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
  | { readonly state: 'unavailable'; readonly reason: string };

function usedMemory(info: string): number {
  const m = /^used_memory:(\d+)/m.exec(info);
  return m?.[1] === undefined ? 0 : Number(m[1]);
}

/**
 * Knows, without any I/O on the request path, whether a new request may be admitted. It polls the queue's
 * counts and Redis' used memory every ~250 ms; the connection's own state says at once when Redis is gone.
 */
export class QueueDepthMonitor {
  private condition: QueueCondition = { state: 'unavailable', reason: 'not polled yet' };
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly redis: Redis,
    readonly highWaterMark: HighWaterMark,
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger,
    private readonly intervalMs = 250,
  ) {}

  async start(): Promise<void> {
    await this.poll();
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
      });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** The condition now: the last poll, overridden by a connection that is not ready. */
  current(): QueueCondition {
    if (this.redis.status !== 'ready') return { state: 'unavailable', reason: `Redis connection is ${this.redis.status}` };
    return this.condition;
  }

  /** Throws the 503 a request gets when the queue cannot take it. */
  admit(): void {
    const condition = this.current();
    if (condition.state === 'full') throw new SidecarError('SIDECAR_ERR_QUEUE_FULL', undefined, { cause: new Error(condition.reason) });
    if (condition.state === 'unavailable') throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, { cause: new Error(condition.reason) });
  }

  private async poll(): Promise<void> {
    try {
      const [counts, memory] = await Promise.all([
        this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
        this.redis.info('memory'),
      ]);
      const backlog = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0);
      const bytes = usedMemory(memory);
      for (const state of ['waiting', 'active', 'delayed', 'failed'] as const) this.metrics.queueDepth.set({ state }, counts[state] ?? 0);
      this.metrics.queueBytes.set(bytes);
      this.update(this.judge(backlog, bytes));
    } catch (err) {
      this.update({ state: 'unavailable', reason: `cannot read the queue depth: ${err instanceof Error ? err.message : String(err)}` });
    }
  }

  private judge(backlog: number, bytes: number): QueueCondition {
    const { jobs, bytes: maxBytes } = this.highWaterMark;
    if (backlog >= jobs) return { state: 'full', reason: `${backlog} jobs waiting, high-water mark ${jobs}` };
    if (bytes >= maxBytes) return { state: 'full', reason: `Redis uses ${bytes} bytes, high-water mark ${maxBytes}` };
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
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    return this.polling ?? Promise.resolve();
  }
}
