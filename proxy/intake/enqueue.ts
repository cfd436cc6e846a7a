import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { describeRedisTarget, type RedisTarget, redisTargetRemedy } from '../../config/redis-target';
import type { SidecarConfig } from '../../config/schema';
import { InternalError, SidecarError } from '../../core/errors';
import { createProducerConnection } from '../../queue/connections';
import { type IntakeJobData, intakeJobName } from '../../queue/contract';
import { intakeJobOptions } from '../../queue/job-options';
import { assertRedisSafe, type Durability, readRedisFacts, type RedisFacts } from '../../queue/redis-checks';
import type { ProxyMetrics } from '../metrics';

export interface EnqueueSettings {
  readonly queueName: string;
  readonly durability: Durability;
  readonly replicas: number;
  readonly keepCompleted: number;
  /** How long WAIT may block for replicas (durability replicated). */
  readonly commandTimeoutMs: number;
}

/**
 * Refuses a Redis that could lose what we acknowledge (eviction policy, a durability level it cannot give) and
 * returns its facts, which also size the default high-water mark.
 */
async function verifyQueueRedis(redis: Redis, settings: EnqueueSettings, logger: Logger): Promise<RedisFacts> {
  const facts = await readRedisFacts(redis);
  assertRedisSafe(facts, settings.durability, settings.replicas);
  logger.info(
    {
      durability: settings.durability,
      replicas: settings.durability === 'replicated' ? settings.replicas : undefined,
      appendfsync: facts.appendfsync,
    },
    `queue durability in effect: ${settings.durability} (a 202 is sent once Redis ${describeDurability(settings)})`,
  );
  return facts;
}

function describeDurability(settings: Pick<EnqueueSettings, 'durability' | 'replicas'>): string {
  switch (settings.durability) {
    case 'applied':
      return 'has executed the write';
    case 'fsync':
      return 'has written it to its fsynced append-only file';
    case 'replicated':
      return `and ${settings.replicas} replica(s) have it`;
  }
}

/**
 * One BullMQ job per accepted request, with the request id as job id (re-adding the same request is a no-op).
 * The promise resolves only once Redis acknowledged the job at the configured durability: that is what a 202
 * promises the agent.
 */
export class IntakeEnqueuer {
  readonly queue: Queue;

  constructor(
    private readonly redis: Redis,
    private readonly settings: EnqueueSettings,
    private readonly metrics: ProxyMetrics,
    logger: Logger,
  ) {
    this.queue = new Queue(settings.queueName, { connection: redis });
    // Connection errors surface as 503s and in the backpressure monitor; without a listener they would crash us.
    this.queue.on('error', (err: Error) => logger.debug({ err: err.message }, 'queue connection error'));
  }

  async enqueue(data: IntakeJobData): Promise<void> {
    const stopTimer = this.metrics.enqueueSeconds.startTimer();
    try {
      await this.queue.add(intakeJobName, data, intakeJobOptions(data.requestId, this.settings.keepCompleted));
      if (this.settings.durability === 'replicated') await this.waitForReplicas();
    } catch (err) {
      if (err instanceof SidecarError) throw err;
      throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, { cause: err });
    } finally {
      stopTimer();
    }
  }

  private async waitForReplicas(): Promise<void> {
    // WAIT covers every earlier write of this connection, so concurrent requests only make it stricter.
    const acknowledged = await this.redis.wait(this.settings.replicas, this.settings.commandTimeoutMs);
    if (acknowledged < this.settings.replicas) {
      throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, {
        cause: new InternalError(
          'SIDECAR_ERR_QUEUE_CONDITION',
          `only ${acknowledged} of ${this.settings.replicas} replicas acknowledged the job`,
        ),
      });
    }
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** The proxy's queue side: a fail-fast producer connection to a Redis that passed the safety checks. */
export async function connectIntakeQueue(
  queueConfig: SidecarConfig['queue'],
  connection: { readonly target: RedisTarget; readonly commandTimeoutMs: number },
  metrics: ProxyMetrics,
  logger: Logger,
): Promise<{ readonly redis: Redis; readonly enqueuer: IntakeEnqueuer; readonly facts: RedisFacts }> {
  const { commandTimeoutMs } = connection;
  const redis = createProducerConnection(connection.target, commandTimeoutMs);
  redis.on('error', (err: Error) => logger.debug({ err: err.message }, 'Redis connection error'));
  const settings: EnqueueSettings = {
    queueName: queueConfig.name,
    durability: queueConfig.durability,
    replicas: queueConfig.replicas,
    keepCompleted: queueConfig.retention.completed,
    commandTimeoutMs,
  };
  try {
    await redis.connect();
    const facts = await verifyQueueRedis(redis, settings, logger);
    return { redis, enqueuer: new IntakeEnqueuer(redis, settings, metrics, logger), facts };
  } catch (err) {
    redis.disconnect();
    if (err instanceof SidecarError) throw err;
    throw new SidecarError(
      'SIDECAR_ERR_QUEUE_UNAVAILABLE',
      `cannot reach Redis at ${describeRedisTarget(connection.target)}: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        remediation: redisTargetRemedy(connection.target),
      },
    );
  }
}
