import type { Queue } from 'bullmq';
import type { Logger } from 'pino';

import { describeRedisTarget, type RedisTarget, redisTargetRemedies } from '../../config/redis-target';
import { InternalError, SidecarError } from '../../core/errors';
import { masterFor, type QueueConnection, queueProducerConnection } from '../../queue/connections';
import { type IntakeJobData, intakeJobName } from '../../queue/contract';
import { intakeJobOptions } from '../../queue/job-options';
import type { Partition } from '../../queue/partitions';
import { type Durability, type MasterFacts, verifyMasters } from '../../queue/redis-checks';
import type { ProxyMetrics } from '../metrics';
import type { PartitionAdmission } from '../partition-admission';

export interface EnqueueSettings {
  readonly durability: Durability;
  readonly replicas: number;
  readonly keepCompleted: number;
  /** How long a request may wait for its job to be acknowledged, retry included; WAIT's bound (replicated). */
  readonly commandTimeoutMs: number;
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

/** Least time left for a second try on another partition to be worth starting. */
const minRetryMs = 50;

/** Settles with `work`, or rejects once `deadline` (epoch ms) passes; a late rejection of `work` is absorbed. */
function before<T>(work: Promise<T>, deadline: number | undefined, what: string): Promise<T> {
  if (deadline === undefined) return work;
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new InternalError('SIDECAR_ERR_QUEUE_CONDITION', `${what} timed out`)),
      Math.max(0, deadline - Date.now()),
    );
  });
  return Promise.race([work, expiry]).finally(() => clearTimeout(timer));
}

/**
 * One BullMQ job per accepted request, with the request id as job id (re-adding the same request is a no-op),
 * on the partition PartitionAdmission chooses. The promise resolves only once Redis acknowledged the job at the
 * configured durability: that is what a 202 promises the agent. With replicated, WAIT runs on the master that
 * owns the partition's slot, on the connection that made the add (ioredis would send a key-less WAIT to a random
 * master of a cluster), and fails when that master changed during the add.
 *
 * With several partitions, a failed add or WAIT (CLUSTERDOWN, TRYAGAIN, too many MOVED, a timeout, a closed
 * connection, too few replicas) marks the partition unhealthy and the job is added once more on another, within
 * queue.redis.command_timeout for the whole request: a job landed twice is harmless (same event ids, indexed once
 * by `create`). With one partition a failure is a 503, as always.
 */
export class IntakeEnqueuer {
  /** `queues[i]` is the BullMQ queue of partition i, on `connection`. */
  constructor(
    private readonly connection: QueueConnection,
    private readonly partitions: readonly Partition[],
    private readonly queues: readonly Queue[],
    private readonly admission: Pick<PartitionAdmission, 'choose' | 'markUnhealthy'>,
    private readonly settings: EnqueueSettings,
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger,
  ) {}

  async enqueue(data: IntakeJobData): Promise<void> {
    const stopTimer = this.metrics.enqueueSeconds.startTimer();
    try {
      const first = this.admission.choose();
      if (first === undefined)
        throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, {
          cause: new InternalError('SIDECAR_ERR_QUEUE_CONDITION', 'no partition can take the job now'),
        });
      if (this.partitions.length === 1) return await this.addTo(first, data, undefined);
      const deadline = Date.now() + this.settings.commandTimeoutMs;
      try {
        // The first try gets half the time, so a second one on another partition still fits.
        await this.addTo(first, data, deadline - this.settings.commandTimeoutMs / 2);
      } catch (err) {
        this.admission.markUnhealthy(first);
        const second = this.admission.choose([first.index]);
        this.logger.warn(
          { partition: first.label, retryOn: second?.label, err: err instanceof Error ? err.message : String(err) },
          'queue partition failed to take a job: passed over for a while, the job is tried on another',
        );
        if (second === undefined || deadline - Date.now() < minRetryMs) throw err;
        try {
          await this.addTo(second, data, deadline);
        } catch (again) {
          this.admission.markUnhealthy(second);
          throw again;
        }
      }
    } catch (err) {
      if (err instanceof SidecarError) throw err;
      throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, { cause: err });
    } finally {
      stopTimer();
    }
  }

  /** Adds the job to `partition` and, for replicated, WAITs on its master; by `deadline` when one is given. */
  private async addTo(partition: Partition, data: IntakeJobData, deadline: number | undefined): Promise<void> {
    const slotKey = `bull:${partition.queueName}:id`;
    const owner = masterFor(this.connection, slotKey);
    const add = (this.queues[partition.index] as Queue).add(
      intakeJobName,
      data,
      intakeJobOptions(data.requestId, this.settings.keepCompleted),
    );
    await before(add, deadline, `adding the job to partition ${partition.label}`);
    if (this.settings.durability !== 'replicated') return;
    const master = masterFor(this.connection, slotKey);
    if (master === undefined || master !== owner)
      throw new InternalError(
        'SIDECAR_ERR_QUEUE_CONDITION',
        `the master of partition ${partition.label} changed during the add`,
      );
    // WAIT covers every earlier write of this connection, so concurrent requests only make it stricter.
    const timeoutMs =
      deadline === undefined ? this.settings.commandTimeoutMs : Math.max(1, Math.floor(deadline - Date.now()));
    const acknowledged = await before(
      master.wait(this.settings.replicas, timeoutMs),
      deadline === undefined ? undefined : deadline + 100,
      `WAIT on partition ${partition.label}`,
    );
    if (acknowledged < this.settings.replicas) {
      throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', undefined, {
        cause: new InternalError(
          'SIDECAR_ERR_QUEUE_CONDITION',
          `only ${acknowledged} of ${this.settings.replicas} replicas acknowledged the job`,
        ),
      });
    }
  }
}

/**
 * The proxy's queue connection: fail-fast, to a Redis (or every master of a cluster) that passed the safety
 * checks; their facts size the default high-water marks.
 */
export async function connectIntakeQueue(
  settings: EnqueueSettings,
  target: RedisTarget,
  logger: Logger,
): Promise<{ readonly connection: QueueConnection; readonly masters: MasterFacts[] }> {
  const connection = queueProducerConnection(target, settings.commandTimeoutMs);
  connection.on('error', (err: Error) => logger.debug({ err: err.message }, 'Redis connection error'));
  try {
    await connection.connect();
    const masters = await verifyMasters(connection, settings.durability, settings.replicas);
    logger.info(
      {
        durability: settings.durability,
        replicas: settings.durability === 'replicated' ? settings.replicas : undefined,
        appendfsync: masters[0]?.facts.appendfsync,
        ...(target.kind === 'cluster' ? { masters: masters.map((m) => m.node) } : {}),
      },
      `queue durability in effect: ${settings.durability} (a 202 is sent once Redis ${describeDurability(settings)})`,
    );
    return { connection, masters };
  } catch (err) {
    connection.disconnect();
    if (err instanceof SidecarError) throw err;
    throw new SidecarError(
      'SIDECAR_ERR_QUEUE_UNAVAILABLE',
      `cannot reach Redis at ${describeRedisTarget(target)}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, remediation: redisTargetRemedies[target.kind] },
    );
  }
}
