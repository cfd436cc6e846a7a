import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { documentId } from '../../../forwarder/document-id';
import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { RedisServer } from '../../support/redis';
import { createWriter, enqueue, forwarderConfig, intakeJob, transactionLine, waitFor, type Writer } from './support';

/**
 * Issue 13: the forwarder read Redis' eviction policy only when it started. Now it re-reads it on every
 * reconnection and every second: with a policy that may evict queued jobs it stops taking jobs and /readyz says
 * why; once noeviction is back it takes them again.
 */
describe('forwarder and a Redis that may evict (real redis-server)', () => {
  let redis: RedisServer;
  let standin: EsStandin;
  let writer: Writer;
  let admin: Redis;
  let forwarder: Forwarder | undefined;

  beforeAll(async () => {
    redis = await RedisServer.start();
    standin = await EsStandin.start();
    writer = await createWriter(standin);
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await forwarder?.close();
    admin.disconnect();
    await standin.close();
    await redis.destroy();
  });

  const delivered = (requestId: string, namespace: string): boolean =>
    standin.documents(`traces-apm-${namespace}`).some((d) => d.id === documentId(requestId, 0));

  it('stops taking jobs while maxmemory-policy is not noeviction, says why, and resumes once it is', async () => {
    const queueName = `eviction-${randomUUID()}`;
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(queueName, { connection });
    const logs = new LogSink();
    forwarder = await startForwarder(
      forwarderConfig(redis.url, queueName, { standin, writer }, { data_streams: { namespace: 'evict' } }),
      logs.logger('forwarder'),
    );
    const first = intakeJob([transactionLine(1)]);
    await enqueue(queue, first);
    await waitFor('the first job is delivered', () => delivered(first.requestId, 'evict'), 30_000);

    await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await waitFor('the forwarder says Redis may evict', () => {
      const state = forwarder?.readiness();
      return state !== undefined && !state.ready && state.details.code === 'SIDECAR_ERR_REDIS_POLICY';
    });
    expect(JSON.stringify(forwarder.readiness())).toContain('allkeys-lru');
    // Let a job that was already being fetched when the policy changed come back, then check nothing is taken.
    const held = intakeJob([transactionLine(2)]);
    await enqueue(queue, held);
    await new Promise((r) => setTimeout(r, 2500));
    expect(delivered(held.requestId, 'evict')).toBe(false);
    expect((await queue.getJobCounts('waiting')).waiting).toBe(1);

    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await waitFor('the held job is delivered', () => delivered(held.requestId, 'evict'), 30_000);
    expect(forwarder.readiness().ready).toBe(true);

    await queue.close();
    connection.disconnect();
    logs.assertNoUnexpectedErrors([/Redis may evict queued jobs/]);
    expect(logs.errors().length).toBe(1);
  }, 90_000);

  it('checks the policy again after a reconnection (Redis restarted with allkeys-lru)', async () => {
    await forwarder?.close();
    const queueName = `eviction-restart-${randomUUID()}`;
    const logs = new LogSink();
    forwarder = await startForwarder(
      forwarderConfig(redis.url, queueName, { standin, writer }, { data_streams: { namespace: 'evictrestart' } }),
      logs.logger('forwarder'),
    );
    await waitFor('the forwarder is ready', () => forwarder?.readiness().ready === true, 30_000);
    await redis.restart('SIGTERM', { maxmemoryPolicy: 'allkeys-lru' });
    await waitFor(
      'the forwarder says Redis may evict',
      () => {
        const state = forwarder?.readiness();
        return state !== undefined && !state.ready && state.details.code === 'SIDECAR_ERR_REDIS_POLICY';
      },
      30_000,
    );
    await redis.restart('SIGTERM', { maxmemoryPolicy: 'noeviction' });
    await waitFor('the forwarder is ready again', () => forwarder?.readiness().ready === true, 30_000);
    admin.disconnect();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
    logs.assertNoUnexpectedErrors([/Redis may evict queued jobs/]);
  }, 90_000);
});
