import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { RedisTarget } from '../config/redis-target';
import type { SidecarConfig } from '../config/schema';
import { masterFor, nodeAddress, type QueueConnection } from '../queue/connections';
import { type Partition, partitionsOf } from '../queue/partitions';
import type { MasterFacts } from '../queue/redis-checks';
import { MasterSafety, type RedisSafety } from '../queue/redis-safety';
import { partitionHighWaterMark, QueueDepthMonitor } from './backpressure';
import { connectIntakeQueue, type EnqueueSettings, IntakeEnqueuer } from './intake/enqueue';
import type { ProxyMetrics } from './metrics';
import { PartitionAdmission } from './partition-admission';

/** The proxy's side of the queue: its connection, one monitor per partition, admission over them, the enqueuer. */
export interface IntakeQueue {
  readonly admission: PartitionAdmission;
  readonly enqueuer: IntakeEnqueuer;
  /** Stops the monitors and the queues, then quits the connection. */
  close(): Promise<void>;
}

/** The key whose slot is the partition's (every key of a partition shares its hash tag). */
function slotKeyOf(partition: Partition): string {
  return `bull:${partition.queueName}:id`;
}

function logSafety(logger: Logger, cluster: boolean) {
  return (next: RedisSafety, master: Redis): void => {
    const node = cluster ? nodeAddress(master) : undefined;
    const who = node === undefined ? 'Redis' : `Redis master ${node}`;
    const what = node === undefined ? 'intake' : 'the partitions it serves';
    if (next.state === 'unsafe') {
      logger.error(
        { reason: next.reason, ...(node === undefined ? {} : { node }) },
        `${who} no longer gives the configured queue.durability: ${what} answers 503 until it does (fix the Redis config, see docs/operations.md)`,
      );
    } else if (next.state === 'safe') {
      logger.info(
        node === undefined ? {} : { node },
        `${who} gives the configured queue.durability again: ${what} accepts requests`,
      );
    }
  };
}

/** The facts of the master serving `partition` at start (the one Redis: its only entry). */
function factsOf(connection: QueueConnection, masters: readonly MasterFacts[], partition: Partition): MasterFacts {
  const master = masterFor(connection, slotKeyOf(partition));
  const address = master === undefined ? undefined : nodeAddress(master);
  return masters.find((m) => m.node === null || m.node === address) ?? (masters[0] as MasterFacts);
}

/**
 * Connects to a Redis (or every master of a cluster) that passed the safety checks and builds the queue.partitions
 * queues on that one connection, each watched by its own QueueDepthMonitor against the master that serves it now.
 */
export async function startIntakeQueue(
  q: SidecarConfig['queue'],
  target: RedisTarget,
  commandTimeoutMs: number,
  metrics: ProxyMetrics,
  logger: Logger,
): Promise<IntakeQueue> {
  const settings: EnqueueSettings = {
    durability: q.durability,
    replicas: q.replicas,
    keepCompleted: q.retention.completed,
    commandTimeoutMs,
  };
  const { connection, masters } = await connectIntakeQueue(settings, target, logger);
  const partitions = partitionsOf(q.name, q.partitions);
  const several = partitions.length > 1;
  const queues = partitions.map((p) => {
    const queue = new Queue(p.queueName, { connection });
    // Connection errors surface as 503s and in the backpressure monitor; without a listener they would crash us.
    queue.on('error', (err: Error) =>
      logger.debug({ err: err.message, ...(several ? { partition: p.label } : {}) }, 'queue connection error'),
    );
    return queue;
  });
  // A reconnection may reach a Redis restarted with another config: nothing is admitted until it is read again.
  const safety = new MasterSafety({
    durability: q.durability,
    replicas: q.replicas,
    onChange: logSafety(logger, target.kind === 'cluster'),
  });
  const starting = partitions.map((p) => factsOf(connection, masters, p).node);
  const monitors = partitions.map((p, i) => {
    const facts = factsOf(connection, masters, p);
    const mark = partitionHighWaterMark(q.high_water_mark, facts.facts.maxmemory, {
      partitions: partitions.length,
      onThisMaster: starting.filter((node) => node === facts.node).length,
    });
    return new QueueDepthMonitor(
      queues[i] as Queue,
      () => masterFor(connection, slotKeyOf(p)),
      connection,
      safety,
      mark,
      several ? logger.child({ partition: p.label }) : logger,
      (bytes) => metrics.queueBytes.set({ partition: p.label }, bytes),
    );
  });
  const admission = new PartitionAdmission(partitions, monitors);
  const enqueuer = new IntakeEnqueuer(connection, partitions, queues, admission, settings, metrics, logger);
  return {
    admission,
    enqueuer,
    close: async () => {
      await admission.close();
      safety.stop();
      await Promise.all(queues.map((queue) => queue.close()));
      await connection.quit();
    },
  };
}
