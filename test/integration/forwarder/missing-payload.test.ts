import { randomUUID } from 'node:crypto';

import { runDlqList } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { documentId } from '../../../forwarder/document-id';
import { UnreadableJobs } from '../../../queue/dead-letter/unreadable';
import { enqueue, forwarderBed, intakeJob, transactionLine, waitFor } from './support';

/**
 * Issue 13: after Redis SIGKILLs under CPU contention a forwarder logged 916 jobs "invalid intake job: unknown job
 * name undefined" and failed them. That is what BullMQ hands over when a job id is in `wait` but its hash is gone:
 * moveToActive's HMSET of processedOn writes a stub hash, and the job has no name and no data. Built here
 * deterministically (an id pushed without a hash, a job whose hash is deleted while it waits): such a job is never
 * failed silently. It is named with what was missing, counted, shown by /readyz and `dlq list`, logged at error,
 * and the jobs around it are delivered.
 */
describe('a job whose payload is gone from Redis (real redis-server)', () => {
  const bed = forwarderBed();

  it('is kept, named with what was missing, counted, listed and logged; the jobs around it are delivered', async () => {
    const { connection, queue, logs, standin } = bed;
    const queueName = queue.name;
    const ghost = `ghost-${randomUUID()}`;
    await connection.lpush(`bull:${queueName}:wait`, ghost);
    const vanished = intakeJob([transactionLine(1)]);
    await enqueue(queue, vanished);
    await connection.del(`bull:${queueName}:${vanished.requestId}`);
    const kept = intakeJob([transactionLine(2)]);
    await enqueue(queue, kept);

    const forwarder = await bed.start({ data_streams: { namespace: 'missing' } });
    await waitFor('the readable job is delivered', () =>
      standin.documents('traces-apm-missing').some((d) => d.id === documentId(kept.requestId, 0)),
    );
    await waitFor('both are in the failed set', async () => (await queue.getJobCounts('failed')).failed === 2);
    const named = await new UnreadableJobs(connection, queueName).list();
    expect(named.map((j) => j.jobId).sort()).toEqual([ghost, vanished.requestId].sort());
    for (const job of named) expect(job.reason).toMatch(/job payload missing in Redis: .*hash was gone/);
    await waitFor(
      'readiness names them',
      () => JSON.stringify(forwarder.readiness()).includes('"unreadable_jobs":2'),
      10_000,
    );
    expect(
      (await forwarder.registry.getSingleMetricAsString('apm_sidecar_jobs_unreadable_total')).trim().split('\n').pop(),
    ).toMatch(/ 2$/);
    const listed: string[] = [];
    const loaded = loadConfig({ env: {}, overrides: { queue: { redis: { url: bed.redis.url }, name: queueName } } });
    await runDlqList(loaded, { samples: 3 }, (l) => listed.push(l));
    expect(listed.join('\n')).toContain(ghost);
    expect(listed.join('\n')).toMatch(/unreadable_job: 2 jobs/);
    const errors = logs.errors().filter((l) => String(l.msg).includes('job has no payload in Redis'));
    expect(errors.map((l) => l.jobId).sort()).toEqual([ghost, vanished.requestId].sort());
    logs.assertNoUnexpectedErrors([/job has no payload in Redis/]);
  }, 60_000);
});
