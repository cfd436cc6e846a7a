import { SidecarError } from '../core/errors';
import type { Partition } from '../queue/partitions';
import type { QueueCondition, QueueDepthMonitor } from './backpressure';

/** How long a partition whose add or WAIT failed is passed over while another can take the request. */
const unhealthyForMs = 2000;

type PartitionMonitor = Pick<QueueDepthMonitor, 'admit' | 'assertDurable' | 'current' | 'backlog' | 'start' | 'close'>;

/** One partition's condition as /readyz shows it. */
export interface PartitionView {
  readonly partition: string;
  readonly queue: QueueCondition['state'];
  readonly reason?: string;
  /** Passed over after a failed add or WAIT, until this many ms from now. */
  readonly unhealthyMs?: number;
}

const refusalOrder: ReadonlyArray<QueueCondition['state']> = ['full', 'unavailable', 'unsafe'];

/**
 * Admission over the queue's partitions, each with its own QueueDepthMonitor (depth, high-water mark, its
 * master's durability): a request is admitted while any partition can take it, and is answered 503 only when none
 * can, with the refusal of the least bad partition (full before unavailable before not durable, so an agent is
 * told to retry later whenever one partition only sheds load). With one partition this is that partition's
 * monitor, unchanged.
 *
 * `choose()` picks the partition for an add: of two partitions drawn among the open ones not marked unhealthy,
 * the one with fewer jobs waiting (two random choices); a partition whose add or WAIT failed is marked unhealthy
 * for 2 s and passed over while another is open, and tried again when it is the only one left. A partition that
 * is unavailable or below the durability is never chosen (a 202 from it would promise what it cannot keep).
 */
export class PartitionAdmission {
  private readonly unhealthyUntil: number[];

  constructor(
    readonly partitions: readonly Partition[],
    private readonly monitors: readonly PartitionMonitor[],
    private readonly random: () => number = Math.random,
  ) {
    this.unhealthyUntil = monitors.map(() => 0);
  }

  async start(): Promise<void> {
    await Promise.all(this.monitors.map((m) => m.start()));
  }

  /** The condition of the queue as a whole: open while any partition is open, else the least bad refusal. */
  current(): QueueCondition {
    const conditions = this.monitors.map((m) => m.current());
    const open = conditions.find((c) => c.state === 'open');
    if (open !== undefined || conditions.length === 1) return open ?? (conditions[0] as QueueCondition);
    for (const state of refusalOrder) {
      const refused = conditions.filter((c) => c.state === state);
      const first = refused[0];
      if (first !== undefined && 'reason' in first)
        return {
          state,
          reason: `all ${conditions.length} partitions refuse; partition ${conditions.indexOf(first)}: ${first.reason}`,
        };
    }
    return conditions[0] as QueueCondition;
  }

  /** Throws the 503 a request gets when no partition can take it (see QueueDepthMonitor.admit). */
  async admit(): Promise<void> {
    await this.anyOf((m) => m.admit());
  }

  /** Throws when no partition's master gives the durability now (see QueueDepthMonitor.assertDurable). */
  async assertDurable(): Promise<void> {
    await this.anyOf((m) => m.assertDurable());
  }

  /** Resolves once `step` resolves for one partition at least; else rethrows the least bad refusal. */
  private async anyOf(step: (m: PartitionMonitor) => Promise<void>): Promise<void> {
    if (this.monitors.length === 1) return step(this.monitors[0] as PartitionMonitor);
    const results = await Promise.all(
      this.monitors.map((m) =>
        step(m).then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    );
    if (results.some((r) => r === undefined)) return;
    throw leastBad(results);
  }

  /**
   * The partition for the next add, passing over `tried` ones; undefined when no other is open. With one
   * partition it is always that one (a failure is answered 503, as before partitions).
   */
  choose(tried: readonly number[] = []): Partition | undefined {
    if (this.partitions.length === 1) return tried.length === 0 ? this.partitions[0] : undefined;
    const now = Date.now();
    const left = this.partitions.filter((p) => !tried.includes(p.index));
    const open = left.filter((p) => this.monitorOf(p).current().state === 'open');
    const healthy = open.filter((p) => (this.unhealthyUntil[p.index] ?? 0) <= now);
    // A request admitted before its partitions filled up is still queued, as with one partition.
    const pool =
      healthy.length > 0
        ? healthy
        : open.length > 0
          ? open
          : left.filter((p) => this.monitorOf(p).current().state === 'full');
    if (pool.length <= 1) return pool[0];
    const a = pool[Math.floor(this.random() * pool.length)] as Partition;
    const others = pool.filter((p) => p !== a);
    const b = others[Math.floor(this.random() * others.length)] as Partition;
    return this.monitorOf(b).backlog() < this.monitorOf(a).backlog() ? b : a;
  }

  /** A partition whose add or WAIT failed: passed over for a while when another can take requests. */
  markUnhealthy(partition: Partition): void {
    this.unhealthyUntil[partition.index] = Date.now() + unhealthyForMs;
  }

  /** Each partition's condition, for /readyz (only shown when there is more than one). */
  views(): PartitionView[] {
    const now = Date.now();
    return this.partitions.map((p) => {
      const condition = this.monitorOf(p).current();
      const until = this.unhealthyUntil[p.index] ?? 0;
      return {
        partition: p.label,
        queue: condition.state,
        ...('reason' in condition ? { reason: condition.reason } : {}),
        ...(until > now ? { unhealthyMs: until - now } : {}),
      };
    });
  }

  private monitorOf(partition: Partition): PartitionMonitor {
    return this.monitors[partition.index] as PartitionMonitor;
  }

  async close(): Promise<void> {
    await Promise.all(this.monitors.map((m) => m.close()));
  }
}

const refusalCodes = ['SIDECAR_ERR_QUEUE_FULL', 'SIDECAR_ERR_QUEUE_UNAVAILABLE', 'SIDECAR_ERR_QUEUE_NOT_DURABLE'];

/** The refusal an agent is best served by: full (retry later) before unavailable before not durable. */
function leastBad(errors: readonly unknown[]): unknown {
  for (const code of refusalCodes) {
    const found = errors.find((e) => e instanceof SidecarError && e.code === code);
    if (found !== undefined) return found;
  }
  return errors[0];
}
