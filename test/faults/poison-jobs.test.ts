import { createHash } from 'node:crypto';

import type { Redis } from 'ioredis';

import { keyPrefixOf } from '../../queue/partitions';
import { enqueue, forwarderBed, intakeJob, transactionLine, waitFor } from '../integration/forwarder/support';

/**
 * No poison jobs: lines JavaScript's parser accepts but no document may carry, enqueued directly (as an older or
 * differently configured proxy could have), are dead-lettered with their reason after the first try, the other
 * events of their job are delivered, and every job completes: the queue ends empty.
 */
const valid = (seq: number): string => transactionLine(seq);
const withRaw = (seq: number, key: string, raw: string): string => valid(seq).replace(/\}\}$/, `,"${key}":${raw}}}`);
const nested = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const hostile: ReadonlyArray<{
  readonly name: string;
  readonly line: (seq: number) => string;
  readonly reason: RegExp;
}> = [
  {
    name: '100,000-deep nesting in context.custom',
    line: (s) => withRaw(s, 'context', `{"custom":${nested(100_000)}}`),
    reason: /nesting deeper than 1000 levels/,
  },
  {
    name: 'duration 1e400',
    line: (s) => valid(s).replace('"duration":1.5', '"duration":1e400'),
    reason: /out of the float64 range/,
  },
  {
    name: '30-digit integer timestamp',
    line: (s) => valid(s).replace(/"timestamp":\d+/, '"timestamp":123456789012345678901234567890'),
    reason: /Invalid time value/,
  },
  {
    name: 'a 400-digit number in a label',
    line: (s) => withRaw(s, 'context', `{"tags":{"n":${'9'.repeat(400)}}}`),
    reason: /out of the float64 range/,
  },
];

/**
 * Each dead-letter entry's fields the test checks, with the stored event as a SHA-1, read by a script in Redis: the
 * 600 kB deep-nesting line read back over ioredis would leave redis-parser's module-level buffer-pool interval (not
 * unref'd, no API to stop it) shrinking its pool 50 ms a step for seconds after the suite, and jest would not exit.
 */
async function deadLetterSummaries(
  connection: Redis,
  queueName: string,
): Promise<Array<{ jobId: string; lineIndex: number; reason: string; message: string; eventSha1: string }>> {
  const base = `${keyPrefixOf(queueName)}:dlq`;
  const script = `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local e = cjson.decode(redis.call('HGET', KEYS[1], id))
  out[#out + 1] = cjson.encode({ jobId = e.jobId, lineIndex = e.lineIndex, reason = e.reason,
    message = string.sub(e.message, 1, 2000), eventSha1 = redis.sha1hex(e.event) })
end
return out`;
  const rows = (await connection.eval(script, 2, `${base}:entries`, `${base}:order`)) as string[];
  return rows.map((row) => JSON.parse(row) as Awaited<ReturnType<typeof deadLetterSummaries>>[number]);
}

describe('fault: hostile lines enqueued directly (no poison jobs)', () => {
  const bed = forwarderBed();

  it('dead-letters each hostile line after one try, delivers the rest of its job, and empties the queue', async () => {
    const { connection, queue, logs, standin } = bed;
    const queueName = queue.name;
    // One job per hostile line, each with two valid events around it: seq 3k+1 is the hostile one.
    const jobLines = hostile.map((h, k) => [valid(3 * k), h.line(3 * k + 1), valid(3 * k + 2)]);
    const jobs = jobLines.map((lines) => intakeJob(lines));
    for (const job of jobs) await enqueue(queue, job);
    await bed.start({ data_streams: { namespace: 'poison' } }, { logLevel: 'info' });
    await waitFor('every job completed', async () => (await queue.getJobCounts('completed')).completed === jobs.length);
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
    expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0, prioritized: 0 });
    const attempts = await Promise.all(jobs.map(async (j) => (await queue.getJob(j.requestId))?.attemptsMade));
    expect(attempts.every((n) => n === 0 || n === 1)).toBe(true);

    const indexed = standin
      .documents('traces-apm*-poison')
      .map((d) => d.id)
      .sort();
    expect(indexed).toEqual(jobs.flatMap((j) => [`${j.requestId}.0`, `${j.requestId}.2`]).sort());
    const dead = await deadLetterSummaries(connection, queueName);
    expect(dead).toHaveLength(hostile.length);
    hostile.forEach((h, k) => {
      const entry = dead.find((e) => e.jobId === jobs[k]?.requestId);
      expect({ case: h.name, lineIndex: entry?.lineIndex, reason: entry?.reason }).toEqual({
        case: h.name,
        lineIndex: 1,
        reason: 'transform_error',
      });
      expect(entry?.message).toMatch(h.reason);
      // The entry keeps the line as it arrived, so a replay sends the same event.
      expect(entry?.eventSha1).toBe(
        createHash('sha1')
          .update(jobLines[k]?.[1] ?? '')
          .digest('hex'),
      );
    });
    logs.assertNoUnexpectedErrors();
  });
});
