import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';

import { runDlqPurge } from '../../../cli/dlq';
import { loadConfig } from '../../../config/load';
import { SidecarError } from '../../../core/errors';
import { DeadLetterQueue } from '../../../queue/dead-letter';
import { RedisServer } from '../../support/redis';
import { assertBuilt, childEnv, cliPath } from '../../support/spawn-cli';

const entry = (n: number, reason: string): Parameters<DeadLetterQueue['add']>[0][number] => ({
  id: `r.${n}`,
  jobId: 'r',
  lineIndex: n,
  dataStream: 'traces-apm-default',
  reason,
  status: 400,
  message: 'm',
  attempts: 1,
  deadLetteredAt: Date.now(),
  metadata: '{"metadata":{}}',
  event: '{"span":{}}',
  context: { receivedAt: 0, client: { ip: '127.0.0.1', userAgent: null }, identity: { kind: 'anonymous' as const } },
});

describe('`dlq purge` deletes only once confirmed (real redis-server)', () => {
  let redis: RedisServer;
  let connection: Redis;
  const queueName = `q-${randomUUID()}`;
  let dlq: DeadLetterQueue;
  const loaded = (): ReturnType<typeof loadConfig> =>
    loadConfig({ env: {}, overrides: { queue: { redis: { url: redis.url }, name: queueName } } });

  beforeAll(async () => {
    redis = await RedisServer.start();
    connection = new Redis(redis.url);
    dlq = new DeadLetterQueue(connection, queueName, { maxEntries: 100, maxAgeMs: 0 });
    await dlq.add([entry(1, 'x'), entry(2, 'y'), entry(3, 'x')]);
  });
  afterAll(async () => {
    connection?.disconnect();
    await redis?.destroy();
  });

  it('without --yes and without a terminal: refuses, names the flag, deletes nothing', async () => {
    const err: unknown = await runDlqPurge(
      loaded(),
      { reason: undefined },
      () => undefined,
      () => undefined,
    ).catch((e: unknown) => e);
    expect(err instanceof SidecarError && err.code).toBe('SIDECAR_ERR_CONFIRMATION_REQUIRED');
    expect(err instanceof SidecarError && `${err.message} ${err.remediation ?? ''}`).toMatch(/--yes/);
    expect(await dlq.size()).toBe(3);
  });

  it('asks on a terminal: "no" deletes nothing and exits 1, "yes" deletes what was asked about', async () => {
    const questions: string[] = [];
    const out: string[] = [];
    const ask = (answer: boolean) => (question: string) => {
      questions.push(question);
      return Promise.resolve(answer);
    };
    expect(await runDlqPurge(loaded(), { reason: 'x' }, (l) => out.push(l), ask(false))).toBe(1);
    expect(out).toEqual(['nothing deleted']);
    expect(await dlq.size()).toBe(3);
    expect(await runDlqPurge(loaded(), { reason: 'x' }, (l) => out.push(l), ask(true))).toBe(0);
    expect(questions[0]).toMatch(new RegExp(`documents dead-lettered for x of queue ${queueName}`));
    expect(out[1]).toBe('2 dead-lettered documents deleted (reason x)');
    expect(await dlq.size()).toBe(1);
  });

  it('the CLI with stdin not a terminal exits 1 asking for --yes, and purges with it', () => {
    assertBuilt();
    const env = childEnv({ APM_SIDECAR_REDIS_URL: redis.url, APM_SIDECAR_QUEUE: queueName });
    const refused = spawnSync(process.execPath, [cliPath, 'dlq', 'purge'], { env, encoding: 'utf8', input: '' });
    expect({ status: refused.status, stderr: refused.stderr }).toEqual({
      status: 1,
      stderr: expect.stringMatching(/SIDECAR_ERR_CONFIRMATION_REQUIRED.*--yes/s) as unknown,
    });
    const purged = spawnSync(process.execPath, [cliPath, 'dlq', 'purge', '--yes'], { env, encoding: 'utf8' });
    expect({ status: purged.status, stdout: purged.stdout }).toEqual({
      status: 0,
      stdout: '1 dead-lettered documents deleted\n',
    });
  });
});
