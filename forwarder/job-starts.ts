import os from 'node:os';

import type { QueueConnection } from '../queue/connections';
import { keyPrefixOf, type Partition } from '../queue/partitions';

/**
 * What a forwarder does with a job it is about to work on, from the starts of it that never finished:
 * - `shared`: no unfinished start; worked on beside other jobs.
 * - `alone`: a forwarder died while it held this job (with others, so which one killed it is unknown): this
 *   start waits until nothing else is in hand and holds back every other job until it is done, so a death now is
 *   the job's own doing and no innocent job is in hand when it happens.
 * - `quarantine`: the job was in hand, alone, at two deaths: its processing kills forwarders. It is set aside
 *   whole instead of killing the fleet one forwarder after the other.
 */
export type StartVerdict =
  | { readonly kind: 'shared' }
  | { readonly kind: 'alone'; readonly unfinished: number }
  | { readonly kind: 'quarantine'; readonly unfinished: number; readonly alone: number; readonly last: string };

/** Deaths while the job was alone that quarantine it. */
const quarantineAfterAloneDeaths = 2;
/** A marker outlives its job only when a forwarder died between the job's completion and the marker's removal. */
const markerTtlMs = 24 * 3600 * 1000;

/**
 * Per job, in Redis next to the queue: the starts of its processing that have not finished (counted when the
 * job is admitted, so a job that only waited for memory in a dying forwarder is not counted), how many of them
 * ran alone, and who holds it at which piece. A start ends (the marker is removed) however processing ends in a
 * live process: completed, failed, handed back on shutdown. Only a death leaves it behind. BullMQ's own stalled
 * counter cannot tell this: it counts every job a dead forwarder held, and jobs that never started.
 */
export class JobStarts {
  private readonly prefix: string;
  private readonly holder = `${os.hostname()}/${process.pid}`;

  constructor(
    private readonly redis: QueueConnection,
    /** The partition, or a queue name: that name's single queue. */
    partition: string | Pick<Partition, 'keyPrefix'>,
  ) {
    this.prefix = `${keyPrefixOf(partition)}:starts:`;
  }

  async verdict(jobId: string): Promise<StartVerdict> {
    const marker = await this.redis.hgetall(this.prefix + jobId);
    const unfinished = Number(marker.starts ?? 0);
    const alone = Number(marker.alone ?? 0);
    if (alone >= quarantineAfterAloneDeaths)
      return {
        kind: 'quarantine',
        unfinished,
        alone,
        last: `last held by ${marker.holder ?? '?'} at piece ${marker.piece ?? '?'}`,
      };
    return unfinished > 0 ? { kind: 'alone', unfinished } : { kind: 'shared' };
  }

  /** Counts a start (once the job is admitted). */
  async begin(jobId: string, alone: boolean): Promise<void> {
    const key = this.prefix + jobId;
    const tx = this.redis.multi().hincrby(key, 'starts', 1);
    if (alone) tx.hincrby(key, 'alone', 1);
    await tx.hset(key, 'holder', this.holder, 'piece', 0, 'at', Date.now()).pexpire(key, markerTtlMs).exec();
  }

  /** Which piece the job is at: for the operator reading a quarantined job's reason. Best effort. */
  progress(jobId: string, piece: number): void {
    this.redis.hset(this.prefix + jobId, 'piece', piece, 'at', Date.now()).catch(() => undefined);
  }

  /** The start ended in a live process; also clears a quarantined job's count, so a replay starts afresh. */
  async end(jobId: string): Promise<void> {
    await this.redis.del(this.prefix + jobId);
  }
}
