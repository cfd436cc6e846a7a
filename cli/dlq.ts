import readline from 'node:readline/promises';

import { Queue } from 'bullmq';

import type { LoadedConfig } from '../config/load';
import { describeRedisTarget, requireRedisTarget } from '../config/redis-target';
import { runtimeConfig } from '../config/runtime';
import { SidecarError } from '../core/errors';
import { createProducerConnection } from '../queue/connections';
import { DeadLetterQueue } from '../queue/dead-letter';
import { purgeDeadLetters, replayDeadLetters, summarizeDeadLetters } from '../queue/dead-letter/replay';
import { UnreadableJobs } from '../queue/dead-letter/unreadable';

/** `apm-sidecar dlq list|replay|purge`: the dead-letter queue every forwarder of queue.name shares in Redis. */

type Out = (line: string) => void;
const stdout: Out = (line) => process.stdout.write(`${line}\n`);
const stderr: Out = (line) => process.stderr.write(`${line}\n`);

/** The reason `dlq replay --reason` takes for jobs a forwarder could not read. */
const unreadableReason = 'unreadable_job';

async function withDeadLetters<T>(
  loaded: LoadedConfig,
  use: (dlq: DeadLetterQueue, queue: () => Queue, unreadable: UnreadableJobs) => Promise<T>,
): Promise<T> {
  const { config } = loaded;
  const { ms } = runtimeConfig(config);
  const target = requireRedisTarget(config, 'dlq command');
  const redis = createProducerConnection(target, ms['queue.redis.command_timeout']);
  let queue: Queue | undefined;
  try {
    await redis.connect();
    const dlq = new DeadLetterQueue(redis, config.queue.name, {
      maxEntries: config.queue.dead_letter.max_entries,
      maxAgeMs: ms['queue.dead_letter.max_age'],
    });
    return await use(
      dlq,
      () => (queue ??= new Queue(config.queue.name, { connection: redis })),
      new UnreadableJobs(redis, config.queue.name),
    );
  } catch (err) {
    if (err instanceof SidecarError) throw err;
    throw new SidecarError(
      'SIDECAR_ERR_QUEUE_UNAVAILABLE',
      `Redis at ${describeRedisTarget(target)}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        remediation:
          'check that Redis is running and queue.redis.url (APM_SIDECAR_REDIS_URL) or queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) points at it',
      },
    );
  } finally {
    await queue?.close();
    redis.disconnect();
  }
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
  return withDeadLetters(loaded, async (dlq, _queue, unreadable) => {
    const summary = await summarizeDeadLetters(dlq, samples);
    out(
      `${summary.total} dead-lettered documents in queue ${loaded.config.queue.name}${summary.dropped > 0 ? ` (${summary.dropped} dropped by queue.dead_letter bounds)` : ''}`,
    );
    const jobs = await unreadable.list();
    if (jobs.length > 0) {
      out(`\n${unreadableReason}: ${jobs.length} jobs no forwarder could read, kept whole in the failed set`);
      for (const j of jobs.slice(-Math.max(samples, 1)))
        out(`  - job ${j.jobId} (${j.name}) at ${new Date(j.at).toISOString()}: ${truncate(j.reason, 300)}`);
    }
    for (const group of summary.reasons) {
      out(`\n${group.reason}: ${group.count}`);
      for (const e of group.samples) {
        out(
          `  - _id ${e.id} -> ${e.dataStream || '(no data stream)'}, status ${e.status}, attempts ${e.attempts}, job ${e.jobId}, at ${new Date(e.deadLetteredAt).toISOString()}`,
        );
        out(`    reason: ${truncate(e.message, 300)}`);
        out(`    event:  ${truncate(e.event, 300)}`);
      }
    }
    if (summary.reasons.length > 0 || jobs.length > 0)
      out(
        '\nreplay with `apm-sidecar dlq replay [--reason R]` once the cause is fixed; drop with `apm-sidecar dlq purge [--reason R]`',
      );
    return 0;
  });
}

export async function runDlqReplay(
  loaded: LoadedConfig,
  options: { reason: string | undefined },
  out: Out = stdout,
  progress: Out = stderr,
): Promise<number> {
  return withDeadLetters(loaded, async (dlq, queue, unreadable) => {
    const total = await dlq.size();
    const replayed =
      options.reason === unreadableReason
        ? 0
        : await replayDeadLetters(dlq, queue(), loaded.config.queue.retention.completed, {
            reason: options.reason,
            onProgress: (done) => progress(`replaying: ${done} documents queued (of at most ${total})`),
          });
    const jobs =
      options.reason === undefined || options.reason === unreadableReason ? await unreadable.replay(queue()) : 0;
    out(
      `${replayed} dead-lettered documents put back on queue ${loaded.config.queue.name}${options.reason === undefined ? '' : ` (reason ${options.reason})`}; they keep their _id, so any already indexed count as duplicates`,
    );
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
  return withDeadLetters(loaded, async (dlq) => {
    if (options.yes !== true) {
      const which =
        options.reason === undefined
          ? 'every dead-lettered document'
          : `the documents dead-lettered for ${options.reason}`;
      const question = `delete ${which} of queue ${loaded.config.queue.name} (${await dlq.size()} in the dead-letter queue)?`;
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
    const purged = await purgeDeadLetters(dlq, { reason: options.reason });
    out(
      `${purged} dead-lettered documents deleted${options.reason === undefined ? '' : ` (reason ${options.reason})`}`,
    );
    return 0;
  });
}
