import type { Logger } from '../core/log';
import type { Partition } from '../queue/partitions';
import type { ForwarderWorker } from './worker';

/**
 * What decides when jobs are taken (forwarder/delivery-monitor.ts) drives: every partition's worker at once, or
 * one partition's (its dead-letter queue is full) held while the others go on.
 */
export interface JobTaker {
  start(): void;
  pause(reason: string): void;
  resume(): void;
  /** Stops taking jobs of this partition only, until releasePartition (a pause of all keeps it stopped). */
  holdPartition(label: string, reason: string): void;
  releasePartition(label: string): void;
}

export interface PartitionWorkerSpec {
  readonly partition: Partition;
  /** Makes the partition's worker, at start and again after a restart. */
  readonly create: () => ForwarderWorker;
  /** Jobs waiting in the partition's queue now (read through the shared connection). */
  readonly waiting: () => Promise<number>;
}

export interface LivenessOptions {
  /** How often each worker is looked at (default 5 s). */
  readonly checkMs?: number;
  /** A worker with room that took no job for this long while jobs waited is restarted (default 30 s; 0: never). */
  readonly stuckAfterMs?: number;
  /** Bound on closing a restarted worker; jobs it still holds then are handed back to the queue (default 5 s). */
  readonly closeMs?: number;
  readonly onRestart?: (partition: Partition) => void;
}

interface Slot {
  readonly spec: PartitionWorkerSpec;
  worker: ForwarderWorker;
  /** jobsTaken at the last look, and since when the worker has had room, jobs waiting and taken none. */
  seen: number;
  stuckSince: number | undefined;
  /** Why this partition alone takes no jobs (holdPartition), if it is held. */
  heldFor: string | undefined;
}

/**
 * One BullMQ worker per partition, started, paused and resumed together (a partition whose dead-letter queue is
 * full is held alone). Each worker's concurrency lets one partition with a backlog use the whole process; the bound
 * on what the process works on at once is the shared job admission (forwarder/job-admission.ts), and on bulk
 * requests the shared batcher.
 *
 * Liveness: after a failover a worker's blocking connection can stay wedged on the old master (a half-open socket,
 * a reconnect that never resolves), and then the worker takes nothing while its partition fills. A worker that
 * has room, is not paused, and has taken no job for stuckAfterMs while jobs waited in its partition is closed
 * (what it holds is handed back) and replaced by a new one; logged at warn and counted.
 */
export class PartitionWorkers implements JobTaker {
  private readonly slots: Slot[];
  private started = false;
  private pausedFor: string | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private readonly retired = new Set<Promise<void>>();

  constructor(
    specs: readonly PartitionWorkerSpec[],
    private readonly logger: Logger,
    private readonly options: LivenessOptions = {},
  ) {
    this.slots = specs.map((spec) => ({
      spec,
      worker: spec.create(),
      seen: 0,
      stuckSince: undefined,
      heldFor: undefined,
    }));
  }

  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (const slot of this.slots) slot.worker.start();
    const stuckAfterMs = this.options.stuckAfterMs ?? 30_000;
    if (stuckAfterMs > 0)
      this.timer = setInterval(() => void this.check(), Math.min(this.options.checkMs ?? 5000, stuckAfterMs)).unref();
  }

  pause(reason: string): void {
    if (this.pausedFor !== undefined) return;
    this.pausedFor = reason;
    for (const slot of this.slots) if (slot.heldFor === undefined) slot.worker.pause(reason);
  }

  resume(): void {
    if (this.pausedFor === undefined) return;
    this.pausedFor = undefined;
    for (const slot of this.slots) {
      if (slot.heldFor !== undefined) continue;
      slot.worker.resume();
      slot.stuckSince = undefined;
    }
  }

  holdPartition(label: string, reason: string): void {
    const slot = this.slots.find((s) => s.spec.partition.label === label);
    if (slot === undefined || slot.heldFor !== undefined) return;
    slot.heldFor = reason;
    if (this.pausedFor === undefined) slot.worker.pause(reason);
  }

  releasePartition(label: string): void {
    const slot = this.slots.find((s) => s.spec.partition.label === label);
    if (slot?.heldFor === undefined) return;
    slot.heldFor = undefined;
    if (this.pausedFor !== undefined) return;
    slot.worker.resume();
    slot.stuckSince = undefined;
  }

  /** Closes every partition's worker at once within `timeoutMs` (each hands back what it still holds). */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.slots.map((slot) => slot.worker.close(timeoutMs)));
    await Promise.all(this.retired);
  }

  /** Looks at every worker once (the timer's work; a test may call it). */
  async check(now = Date.now()): Promise<void> {
    if (!this.started || this.closed || this.checking) return;
    this.checking = true;
    try {
      await Promise.all(this.slots.map((slot) => this.checkSlot(slot, now)));
    } finally {
      this.checking = false;
    }
  }

  private async checkSlot(slot: Slot, now: number): Promise<void> {
    const { worker } = slot;
    const taken = worker.jobsTaken;
    const progressed = taken !== slot.seen;
    slot.seen = taken;
    if (progressed || this.pausedFor !== undefined || slot.heldFor !== undefined || !worker.hasRoom) {
      slot.stuckSince = undefined;
      return;
    }
    // A failed read is Redis being away, which every worker waits out alike: not this worker's wedge.
    const waiting = await slot.spec.waiting().catch(() => 0);
    if (waiting === 0 || this.closed || slot.worker !== worker) {
      slot.stuckSince = undefined;
      return;
    }
    slot.stuckSince ??= now;
    if (now - slot.stuckSince >= (this.options.stuckAfterMs ?? 30_000)) this.restart(slot, waiting, now);
  }

  private restart(slot: Slot, waiting: number, now: number): void {
    const { partition } = slot.spec;
    this.logger.warn(
      { partition: partition.label, queue: partition.queueName, waiting, idleMs: now - (slot.stuckSince ?? now) },
      'the worker of this partition has taken no job while jobs wait and it has room (its blocking connection has not recovered): closing it and starting a new one',
    );
    this.options.onRestart?.(partition);
    const old = slot.worker;
    slot.worker = slot.spec.create();
    slot.seen = 0;
    slot.stuckSince = undefined;
    slot.worker.start();
    const pausedFor = this.pausedFor ?? slot.heldFor;
    if (pausedFor !== undefined) slot.worker.pause(pausedFor);
    // The old worker may never finish closing (its connection is the wedged one): not waited for beyond the bound.
    const closeMs = this.options.closeMs ?? 5000;
    const retiring = Promise.race([
      old.close(closeMs).catch((err: unknown) => this.logger.debug({ err }, 'closing a restarted worker failed')),
      new Promise<void>((resolve) => setTimeout(resolve, closeMs * 2).unref()),
    ]).finally(() => this.retired.delete(retiring));
    this.retired.add(retiring);
  }
}
