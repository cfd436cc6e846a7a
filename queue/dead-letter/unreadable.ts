import type { Job, Queue } from 'bullmq';

import type { QueueConnection } from '../connections';
import { keyPrefixOf, type Partition } from '../partitions';

/**
 * Jobs a forwarder could not read (a body over its server.max_request_size, a contract version or job kind it
 * does not know, a job whose data is missing). The job itself stays whole in BullMQ's failed set; this registry,
 * next to the dead-letter queue, names it with what was wrong, so it is counted, shown by /readyz and
 * `dlq list`, and put back to waiting by `dlq replay` once the cause is fixed.
 */
export interface UnreadableJob {
  readonly jobId: string;
  readonly name: string;
  readonly reason: string;
  readonly at: number;
}

function parseUnreadable(jobId: string, raw: string): UnreadableJob {
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && 'reason' in value && typeof value.reason === 'string') {
      const name = 'name' in value && typeof value.name === 'string' ? value.name : '(none)';
      const at = 'at' in value && typeof value.at === 'number' ? value.at : 0;
      return { jobId, name, reason: value.reason, at };
    }
  } catch {
    // fall through: shown with the raw text
  }
  return { jobId, name: '(unknown)', reason: raw, at: 0 };
}

/** Forgets a name only if it is still the one read: a job that was found unreadable again meanwhile stays named. */
const forgetIfUnchanged = `
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
`;

export class UnreadableJobs {
  private readonly key: string;

  constructor(
    private readonly redis: QueueConnection,
    /** The partition, or a queue name: that name's single queue. */
    partition: string | Pick<Partition, 'keyPrefix'>,
  ) {
    this.key = `${keyPrefixOf(partition)}:dlq:unreadable`;
  }

  /** Names a job as unreadable; called before the job is moved to the failed set. */
  async record(jobId: string, name: string | undefined, reason: string, at = Date.now()): Promise<void> {
    await this.redis.hset(this.key, jobId, JSON.stringify({ name: name ?? '(none)', reason, at }));
  }

  async count(): Promise<number> {
    return this.redis.hlen(this.key);
  }

  async list(): Promise<UnreadableJob[]> {
    return (await this.read()).map((r) => r.job);
  }

  private async read(): Promise<Array<{ job: UnreadableJob; raw: string }>> {
    const all = await this.redis.hgetall(this.key);
    return Object.entries(all)
      .map(([id, raw]) => ({ job: parseUnreadable(id, raw), raw }))
      .sort((a, b) => a.job.at - b.job.at);
  }

  /**
   * Moves every named job from the failed set back to waiting. BullMQ's retry is one atomic move out of the
   * failed set, so of two replays at once exactly one moves each job; the other finds it gone and only forgets
   * the name. Resolves with how many this run moved.
   */
  async replay(queue: Queue): Promise<number> {
    let moved = 0;
    for (const {
      job: { jobId },
      raw,
    } of await this.read()) {
      const job: Job | undefined = await queue.getJob(jobId);
      if (job !== undefined && (await job.getState()) === 'failed') {
        try {
          await job.retry('failed');
          moved++;
        } catch {
          // Another replay moved it first.
        }
      }
      if (job === undefined || (await job.getState()) !== 'failed')
        await this.redis.eval(forgetIfUnchanged, 1, this.key, jobId, raw);
    }
    return moved;
  }
}
