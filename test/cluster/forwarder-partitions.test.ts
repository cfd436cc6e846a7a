import { Queue } from 'bullmq';
import keySlot from 'cluster-key-slot';
import { Redis } from 'ioredis';

import { runDlqList } from '../../cli/dlq';
import { loadConfig } from '../../config/load';
import { documentId } from '../../forwarder/document-id';
import { type Forwarder, startForwarder } from '../../forwarder/forwarder';
import { DeadLetterQueue } from '../../queue/dead-letter';
import { type Partition, partitionsOf } from '../../queue/partitions';
import {
  createWriter,
  enqueue,
  forwarderConfig,
  intakeJob,
  metadataLine,
  transactionLine,
  waitFor,
  type Writer,
} from '../integration/forwarder/support';
import { EsStandin } from '../support/es-standin/server';
import { LogSink } from '../support/log-sink';
import { DeliveryOracle } from '../support/oracle';
import { RedisClusterSet } from '../support/redis-cluster';

/**
 * A forwarder over queue.partitions = 3 on a real 3-master / 3-replica Redis Cluster: every partition (one per
 * master) is consumed, a restarted forwarder consumes every partition, `dlq list` reads every master, and after a
 * master is SIGKILLed the forwarder drains every partition (the killed one from its promoted replica).
 */
describe('cluster: a forwarder consumes every partition of a Redis Cluster', () => {
  let set: RedisClusterSet;
  let standin: EsStandin;
  let writer: Writer;
  let partitions: Partition[];
  let queues: Queue[];
  let forwarder: Forwarder | undefined;
  const producer = (): ReturnType<RedisClusterSet['connect']> => cluster;
  let cluster: ReturnType<RedisClusterSet['connect']>;
  const queueName = 'cluster-fwd';
  const logs = new LogSink();

  beforeAll(async () => {
    set = await RedisClusterSet.start();
    standin = await EsStandin.start();
    writer = await createWriter(standin);
    cluster = set.connect();
    partitions = partitionsOf(queueName, 3);
    queues = partitions.map((p) => new Queue(p.queueName, { connection: producer() }));
  }, 90_000);
  afterAll(async () => {
    await forwarder?.close();
    for (const queue of queues) await queue.close();
    cluster.disconnect();
    await standin.close();
    await set.destroy();
  });

  const config = () =>
    forwarderConfig(
      'redis://unused',
      queueName,
      { standin, writer },
      {
        queue: { redis: set.queueRedis, partitions: 3 },
        data_streams: { namespace: 'cluster' },
      },
    );
  const start = async (): Promise<Forwarder> => startForwarder(config(), logs.logger('forwarder'));
  const indexedIds = (): string[] => standin.documents('traces-apm*-cluster').map((d) => d.id);
  const completed = async (): Promise<number[]> =>
    Promise.all(queues.map(async (q) => (await q.getJobCounts('completed')).completed ?? 0));
  let seq = 0;
  async function fill(oracle: DeliveryOracle, jobs: number): Promise<void> {
    for (const queue of queues)
      for (let j = 0; j < jobs; j++) {
        const first = seq;
        seq += 5;
        const job = intakeJob(Array.from({ length: 5 }, (_, i) => transactionLine(first + i)));
        await enqueue(queue, job);
        oracle.acknowledge(Array.from({ length: 5 }, (_, i) => documentId(job.requestId, i)));
      }
  }

  it('delivers every partition exactly once, also after a restart, and dlq list reads every master', async () => {
    const oracle = new DeliveryOracle();
    await fill(oracle, 10);
    forwarder = await start();
    await waitFor('every partition drained', async () => (await completed()).every((n) => n === 10), 60_000);
    await forwarder.close();
    forwarder = undefined;
    await fill(oracle, 10);
    forwarder = await start();
    await waitFor('every partition drained again', async () => (await completed()).every((n) => n === 20), 60_000);
    const figures = await oracle.settle(indexedIds, 10_000);
    expect({ lost: figures.lost, doubled: figures.doubled, indexed: figures.indexed }).toEqual({
      lost: 0,
      doubled: 0,
      indexed: 3 * 20 * 5,
    });

    for (const p of partitions)
      await new DeadLetterQueue(producer(), p, { maxEntries: 10, maxAgeMs: 0 }).add([
        {
          id: `dl-${p.label}`,
          jobId: `j-${p.label}`,
          lineIndex: 0,
          dataStream: 'traces-apm-cluster',
          reason: 'mapper_parsing_exception',
          status: 400,
          message: 'refused',
          attempts: 1,
          deadLetteredAt: Date.now(),
          metadata: metadataLine,
          event: transactionLine(99_000 + p.index),
          context: {
            receivedAt: Date.now(),
            client: { ip: '127.0.0.1', userAgent: null },
            identity: { kind: 'anonymous' },
          },
        },
      ]);
    const owners = new Set(await Promise.all(partitions.map((p) => set.ownerOf(keySlot(`${p.keyPrefix}:dlq:order`)))));
    expect(owners.size).toBe(3);
    const lines: string[] = [];
    const loaded = loadConfig({
      env: {},
      overrides: { queue: { redis: set.queueRedis, name: queueName, partitions: 3 } },
    });
    expect(await runDlqList(loaded, { samples: 3 }, (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toBe(`3 dead-lettered documents in queue ${queueName}`);
    logs.assertNoUnexpectedErrors();
  });

  it('drains every partition after the master of one is SIGKILLed mid-delivery', async () => {
    // Elasticsearch away: the jobs are taken (or wait) but none completes before the master goes.
    await standin.stop();
    const oracle = new DeliveryOracle();
    const before = await completed();
    await fill(oracle, 20);
    // What a `replicated` 202 promises: every replica has the jobs before the master goes.
    await waitFor('replicas caught up', () => replicasCaughtUp(set), 30_000);
    const slot = keySlot(`bull:${partitions[0]?.queueName ?? ''}:wait`);
    const killed = await set.killMasterOf(slot);
    await set.waitForOwner(slot, killed);
    expect(await completed()).toEqual(before);
    await standin.resume();
    await waitFor(
      'every partition drained after the failover',
      async () => (await completed()).every((n, i) => n >= (before[i] ?? 0) + 20),
      90_000,
    );
    const figures = await oracle.settle(indexedIds, 30_000);
    expect({ lost: figures.lost, doubled: figures.doubled }).toEqual({ lost: 0, doubled: 0 });
  });
});

/** True once every live master's replicas have acknowledged its whole replication stream. */
async function replicasCaughtUp(set: RedisClusterSet): Promise<boolean> {
  for (const node of (await set.nodes()).filter((n) => n.master && !n.failed)) {
    const redis = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const info = await redis.info('replication');
      const offset = Number(/master_repl_offset:(\d+)/.exec(info)?.[1] ?? -1);
      const replicas = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((m) => Number(m[1]));
      if (replicas.length === 0 || replicas.some((r) => r < offset)) return false;
    } finally {
      redis.disconnect();
    }
  }
  return true;
}
