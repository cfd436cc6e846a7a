import readline from 'node:readline/promises';

import { Queue } from 'bullmq';

import type { LoadedConfig } from '../config/load';
import { describeRedisTarget, requireRedisTarget } from '../config/redis-target';
import { runtimeConfig } from '../config/runtime';
import { SidecarError } from '../core/errors';
import { queueProducerConnection } from '../queue/connections';
import { type DeadLetterEntry, DeadLetterQueue } from '../queue/dead-letter';
import {
  type DeadLetterSummary,
  purgeDeadLetters,
  replayDeadLetters,
  summarizeDeadLetters,
} from '../queue/dead-letter/replay';
import { UnreadableJobs } from '../queue/dead-letter/unreadable';
import { type Partition, partitionsOf } from '../queue/partitions';

/**
 * `apm-sidecar dlq list|replay|purge`: the dead-letter queues every forwarder of queue.name shares in Redis, one per
 * partition (queue.partitions), each under its partition's key prefix; a replay puts entries back on their own
 * partition.
 */

type Out = (line: string) => void;
const stdout: Out = (line) => process.stdout.write(`${line}\n`);
const stderr: Out = (line) => process.stderr.write(`${line}\n`);

/** The reason `dlq replay --reason` takes for jobs a forwarder could not read. */
const unreadableReason = 'unreadable_job';

/** One partition's dead letters, its unreadable jobs and (made when needed) its queue. */
interface PartitionDeadLetters {
  readonly partition: Partition;
  readonly dlq: DeadLetterQueue;
  readonly queue: () => Queue;
  readonly unreadable: UnreadableJobs;
  /** ` (partition 1)` where there are several, '' for the single queue: said after a partition's figures. */
  readonly where: string;
}

async function withDeadLetters<T>(
  loaded: LoadedConfig,
  use: (partitions: readonly PartitionDeadLetters[]) => Promise<T>,
): Promise<T> {
  const { config } = loaded;
  const { ms } = runtimeConfig(config);
  const target = requireRedisTarget(config, 'dlq command');
  const redis = queueProducerConnection(target, ms['queue.redis.command_timeout']);
  const queues: Queue[] = [];
  try {
    await redis.connect();
    const all = partitionsOf(config.queue.name, config.queue.partitions);
    const partitions = all.map((partition): PartitionDeadLetters => {
      let queue: Queue | undefined;
      return {
        partition,
        dlq: new DeadLetterQueue(redis, partition, {
          maxEntries: config.queue.dead_letter.max_entries,
          maxAgeMs: ms['queue.dead_letter.max_age'],
        }),
        queue: () => {
          if (queue === undefined) {
            queue = new Queue(partition.queueName, { connection: redis });
            queues.push(queue);
          }
          return queue;
        },
        unreadable: new UnreadableJobs(redis, partition),
        where: all.length > 1 ? ` (partition ${partition.label})` : '',
      };
    });
    return await use(partitions);
  } catch (err) {
    if (err instanceof SidecarError) throw err;
    throw new SidecarError(
      'SIDECAR_ERR_QUEUE_UNAVAILABLE',
      `Redis at ${describeRedisTarget(target)}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        remediation:
          'check that Redis is running and queue.redis.url (APM_SIDECAR_REDIS_URL), queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) or queue.redis.cluster.nodes (APM_SIDECAR_REDIS_CLUSTER_NODES) points at it',
      },
    );
  } finally {
    await Promise.allSettled(queues.map((q) => q.close()));
    redis.disconnect();
  }
}

async function totalSize(partitions: readonly PartitionDeadLetters[]): Promise<number> {
  const sizes = await Promise.all(partitions.map((p) => p.dlq.size()));
  return sizes.reduce((a, b) => a + b, 0);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

export async function runDlqList(
  loaded: LoadedConfig,
  options: { samples: number },
  out: Out = stdout,
): Promise<number> {
  const samples = Number.isInteger(options.samples) && options.samples >= 0 ? options.samples : 3;
  return withDeadLetters(loaded, async (partitions) => {
    const summaries = await Promise.all(partitions.map((p) => summarizeDeadLetters(p.dlq, samples)));
    const total = summaries.reduce((n, s) => n + s.total, 0);
    const dropped = summaries.reduce((n, s) => n + s.dropped, 0);
    out(
      `${total} dead-lettered documents in queue ${loaded.config.queue.name}${dropped > 0 ? ` (${dropped} dropped by queue.dead_letter bounds)` : ''}`,
    );
    if (partitions.length > 1)
      partitions.forEach((p, i) =>
        out(`  partition ${p.partition.label} (${p.partition.queueName}): ${summaries[i]?.total ?? 0}`),
      );
    const jobs = (
      await Promise.all(
        partitions.map(async (p) => (await p.unreadable.list()).map((job) => ({ job, where: p.where }))),
      )
    )
      .flat()
      .sort((a, b) => a.job.at - b.job.at);
    if (jobs.length > 0) {
      out(`\n${unreadableReason}: ${jobs.length} jobs no forwarder could read, kept whole in the failed set`);
      for (const { job: j, where } of jobs.slice(-Math.max(samples, 1)))
        out(`  - job ${j.jobId}${where} (${j.name}) at ${new Date(j.at).toISOString()}: ${truncate(j.reason, 300)}`);
    }
    const groups = mergeReasons(partitions, summaries, samples);
    for (const group of groups) {
      out(`\n${group.reason}: ${group.count}`);
      for (const { entry: e, where } of group.samples) {
        out(
          `  - _id ${e.id} -> ${e.dataStream || '(no data stream)'}, status ${e.status}, attempts ${e.attempts}, job ${e.jobId}${where}, at ${new Date(e.deadLetteredAt).toISOString()}`,
        );
        out(`    reason: ${truncate(e.message, 300)}`);
        out(`    event:  ${truncate(e.event, 300)}`);
      }
    }
    if (groups.length > 0 || jobs.length > 0)
      out(
        '\nreplay with `apm-sidecar dlq replay [--reason R]` once the cause is fixed; drop with `apm-sidecar dlq purge [--reason R]`',
      );
    return 0;
  });
}

/** Every partition's counts by reason as one, most frequent first, with the newest `samples` of each reason. */
function mergeReasons(
  partitions: readonly PartitionDeadLetters[],
  summaries: readonly DeadLetterSummary[],
  samples: number,
): Array<{ reason: string; count: number; samples: Array<{ entry: DeadLetterEntry; where: string }> }> {
  const byReason = new Map<string, { count: number; samples: Array<{ entry: DeadLetterEntry; where: string }> }>();
  summaries.forEach((summary, i) => {
    const where = partitions[i]?.where ?? '';
    for (const group of summary.reasons) {
      const merged = byReason.get(group.reason) ?? { count: 0, samples: [] };
      merged.count += group.count;
      merged.samples.push(...group.samples.map((entry) => ({ entry, where })));
      byReason.set(group.reason, merged);
    }
  });
  return [...byReason.entries()]
    .map(([reason, g]) => ({
      reason,
      count: g.count,
      samples: g.samples
        .sort((a, b) => a.entry.deadLetteredAt - b.entry.deadLetteredAt)
        .slice(Math.max(0, g.samples.length - samples)),
    }))
    .sort((a, b) => b.count - a.count);
}

export async function runDlqReplay(
  loaded: LoadedConfig,
  options: { reason: string | undefined },
  out: Out = stdout,
  progress: Out = stderr,
): Promise<number> {
  return withDeadLetters(loaded, async (partitions) => {
    const total = await totalSize(partitions);
    let replayed = 0;
    let jobs = 0;
    const perPartition: string[] = [];
    for (const p of partitions) {
      const before = replayed;
      // Back on its own partition: the entry's documents are in that partition's slot, its starts too.
      replayed +=
        options.reason === unreadableReason
          ? 0
          : await replayDeadLetters(p.dlq, p.queue(), loaded.config.queue.retention.completed, {
              reason: options.reason,
              onProgress: (done) =>
                progress(`replaying: ${before + done} documents queued (of at most ${total})${p.where}`),
            });
      if (options.reason === undefined || options.reason === unreadableReason)
        jobs += await p.unreadable.replay(p.queue());
      if (partitions.length > 1) perPartition.push(`partition ${p.partition.label}: ${replayed - before}`);
    }
    out(
      `${replayed} dead-lettered documents put back on queue ${loaded.config.queue.name}${options.reason === undefined ? '' : ` (reason ${options.reason})`}; they keep their _id, so any already indexed count as duplicates`,
    );
    if (perPartition.length > 0) out(`  each on its own partition: ${perPartition.join(', ')}`);
    if (jobs > 0) out(`${jobs} unreadable jobs moved from the failed set back to waiting`);
    return 0;
  });
}

/** Asks on the terminal; undefined when no one can answer (stdin or stdout is not a TTY). */
type Confirm = (question: string) => Promise<boolean> | undefined;

const askOnTerminal: Confirm = (question) => {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return undefined;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  return rl
    .question(`${question} [y/N] `)
    .then(
      (answer) => /^y(es)?$/i.test(answer.trim()),
      () => false,
    )
    .finally(() => rl.close());
};

/** Deletes dead-lettered documents: only with --yes, or after "y" on a terminal. */
export async function runDlqPurge(
  loaded: LoadedConfig,
  options: { reason: string | undefined; yes?: boolean },
  out: Out = stdout,
  confirm: Confirm = askOnTerminal,
): Promise<number> {
  return withDeadLetters(loaded, async (partitions) => {
    if (options.yes !== true) {
      const which =
        options.reason === undefined
          ? 'every dead-lettered document'
          : `the documents dead-lettered for ${options.reason}`;
      const question = `delete ${which} of queue ${loaded.config.queue.name} (${await totalSize(partitions)} in the dead-letter queue)?`;
      const answer = confirm(question);
      if (answer === undefined) {
        throw new SidecarError(
          'SIDECAR_ERR_CONFIRMATION_REQUIRED',
          `dlq purge would ${question.replace(/\?$/, '')}, and no terminal can confirm it`,
          {
            remediation: 'pass --yes to delete without asking (`apm-sidecar dlq purge --yes`), or run it on a terminal',
          },
        );
      }
      if (!(await answer)) {
        out('nothing deleted');
        return 1;
      }
    }
    let purged = 0;
    for (const p of partitions) purged += await purgeDeadLetters(p.dlq, { reason: options.reason });
    out(
      `${purged} dead-lettered documents deleted${options.reason === undefined ? '' : ` (reason ${options.reason})`}`,
    );
    return 0;
  });
}
