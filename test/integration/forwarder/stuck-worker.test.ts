import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { documentId } from '../../../forwarder/document-id';
import { type Forwarder, startForwarder } from '../../../forwarder/forwarder';
import { partitionsOf } from '../../../queue/partitions';
import { EsStandin } from '../../support/es-standin/server';
import { LogSink } from '../../support/log-sink';
import { DeliveryOracle } from '../../support/oracle';
import { RedisServer } from '../../support/redis';
import { TcpRelay } from '../../support/tcp-relay';
import { createWriter, enqueue, forwarderConfig, intakeJob, transactionLine, waitFor, type Writer } from './support';

/**
 * The stand-in wedge: each worker's blocking socket goes half-open (forwarder.stuck_worker_timeout 2 s here).
 * BullMQ 5.81's own watchdog gets out of this one after about 9 s (measured with the check off); the liveness check
 * is the backstop for the wedges it does not get out of, and must act first here.
 */
describe("a partition's worker whose blocking connection is wedged (real redis-server behind a relay)", () => {
  let redis: RedisServer;
  let relay: TcpRelay;
  let standin: EsStandin;
  let writer: Writer;
  let connection: Redis;
  let forwarder: Forwarder | undefined;
  let queues: Queue[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    relay = await TcpRelay.start(redis.port);
    standin = await EsStandin.start();
    writer = await createWriter(standin);
    connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    await forwarder?.close();
    for (const queue of queues) await queue.close();
    connection.disconnect();
    await relay.close();
    await standin.close();
    await redis.destroy();
  });

  it('is closed and made again (logged at warn, counted), and the jobs that waited are delivered once', async () => {
    const queueName = `q-${randomUUID()}`;
    const partitions = partitionsOf(queueName, 2);
    queues = partitions.map((p) => new Queue(p.queueName, { connection }));
    const logs = new LogSink();
    const oracle = new DeliveryOracle();
    const fill = async (jobs: number): Promise<void> => {
      for (const queue of queues)
        for (let j = 0; j < jobs; j++) {
          const job = intakeJob([transactionLine(j * 2), transactionLine(j * 2 + 1)]);
          await enqueue(queue, job);
          oracle.acknowledge([documentId(job.requestId, 0), documentId(job.requestId, 1)]);
        }
    };
    forwarder = await startForwarder(
      forwarderConfig(
        relay.url,
        queueName,
        { standin, writer },
        {
          queue: { partitions: 2 },
          forwarder: { stuck_worker_timeout: '2s' },
          data_streams: { namespace: 'stuck' },
        },
      ),
      logs.logger('forwarder'),
    );
    await fill(1);
    const completed = async (): Promise<number[]> =>
      Promise.all(queues.map(async (q) => (await q.getJobCounts('completed')).completed ?? 0));
    await waitFor('one job done on each partition', async () => (await completed()).every((n) => n === 1));
    // Idle now: each partition's worker blocks in BZPOPMIN on its own connection. Those sockets go half-open.
    await waitFor('both workers blocking', () => relay.count('BZPOPMIN') === 2);
    expect(relay.freeze('BZPOPMIN')).toBe(2);
    await fill(5);

    await waitFor(
      'the jobs queued after the wedge delivered',
      async () => (await completed()).every((n) => n === 6),
      60_000,
    );
    const figures = await oracle.settle(() => standin.documents('traces-apm*-stuck').map((d) => d.id), 10_000);
    expect({ lost: figures.lost, doubled: figures.doubled }).toEqual({ lost: 0, doubled: 0 });
    const restarts = logs.lines.filter(
      (l) => l.level === 'warn' && /closing it and starting a new one/.test(String(l.msg)),
    );
    expect(new Set(restarts.map((l) => l.partition))).toEqual(new Set(['0', '1']));
    const metrics = await (await fetch(`http://127.0.0.1:${forwarder.admin.port}/metrics`)).text();
    for (const label of ['0', '1'])
      expect(metrics).toMatch(
        new RegExp(`apm_sidecar_worker_restarts_total\\{partition="${label}",role="forwarder"\\} [1-9]`),
      );
    logs.assertNoUnexpectedErrors();
  });
});
