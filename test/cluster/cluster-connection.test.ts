import { Queue, Worker } from 'bullmq';

import { redisCheck } from '../../cli/check/checks';
import { loadConfig } from '../../config/load';
import { redisTargetOf } from '../../config/redis-target';
import { mastersOf, nodeAddress, queueProducerConnection, queueWorkerConnection } from '../../queue/connections';
import { partitionsOf } from '../../queue/partitions';
import { verifyMasters } from '../../queue/redis-checks';
import { RedisClusterSet } from '../support/redis-cluster';

/**
 * The connection factory against a real 3-master / 3-replica Redis Cluster: the producer's and the worker's
 * connections are ioredis Clusters that BullMQ accepts; each partition's queue lives on the master that owns its
 * tag's slot, and a job added to every partition by the producer is consumed by a worker.
 */
describe('cluster: queue connections on a Redis Cluster', () => {
  let set: RedisClusterSet;
  beforeAll(async () => {
    set = await RedisClusterSet.start();
  }, 60_000);
  afterAll(async () => {
    await set.destroy();
  });

  it('adds to and consumes from every partition, each on the master owning its hash tag', async () => {
    const { config } = loadConfig({
      env: { APM_SIDECAR_REDIS_CLUSTER_NODES: set.servers.map((s) => `127.0.0.1:${s.port}`).join(',') },
    });
    const target = redisTargetOf(config.queue.redis);
    if (target?.kind !== 'cluster') throw new Error(`expected a cluster target, got ${target?.kind}`);
    const producer = queueProducerConnection(target, 2000);
    const workerConnection = queueWorkerConnection(target);
    await producer.connect();
    const partitions = partitionsOf('conn-test', 3);
    const queues = partitions.map((p) => new Queue(p.queueName, { connection: producer }));
    const seen: string[] = [];
    const workers = partitions.map(
      (p) =>
        new Worker(
          p.queueName,
          (job) => {
            seen.push(`${p.label}:${String(job.id)}`);
            return Promise.resolve();
          },
          { connection: workerConnection },
        ),
    );
    try {
      for (const [i, queue] of queues.entries()) await queue.add('job', { i }, { jobId: `job-${i}` });
      const masters = mastersOf(producer).map(nodeAddress).sort();
      expect(masters).toHaveLength(3);
      // Three partitions, three masters: each partition's keys on a different one.
      const owners = new Set<string>();
      for (const p of partitions) {
        const slot = Number(await producer.call('CLUSTER', 'KEYSLOT', `bull:${p.queueName}:id`));
        owners.add(String(await set.ownerOf(slot)));
      }
      expect(owners.size).toBe(3);
      const deadline = Date.now() + 10_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.sort()).toEqual(['0:job-0', '1:job-1', '2:job-2']);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(queues.map((q) => q.close()));
      producer.disconnect();
      workerConnection.disconnect();
    }
  }, 60_000);

  it('checks every master: `check` passes on all three, and a master that evicts is refused by its host:port', async () => {
    const { config } = loadConfig({
      env: {
        APM_SIDECAR_REDIS_CLUSTER_NODES: `127.0.0.1:${set.servers[0]?.port ?? 0}`,
        APM_SIDECAR_QUEUE_PARTITIONS: '3',
      },
    });
    const passed = await redisCheck(config);
    expect(passed.status).toBe('ok');
    expect(passed.detail).toContain('on all 3 masters');
    const target = redisTargetOf(config.queue.redis);
    if (target === null) throw new Error('no target');
    const connection = queueProducerConnection(target, 2000);
    await connection.connect();
    const [victim] = mastersOf(connection);
    if (victim === undefined) throw new Error('no master');
    try {
      await victim.config('SET', 'maxmemory-policy', 'allkeys-lru');
      await expect(verifyMasters(connection, 'applied', 0)).rejects.toMatchObject({
        code: 'SIDECAR_ERR_REDIS_POLICY',
        message: `Redis Cluster master ${nodeAddress(victim)}: Redis runs maxmemory-policy allkeys-lru; queued events could be evicted`,
      });
      expect(await redisCheck(config)).toMatchObject({ status: 'fail' });
    } finally {
      await victim.config('SET', 'maxmemory-policy', 'noeviction');
      connection.disconnect();
    }
  }, 60_000);
});
