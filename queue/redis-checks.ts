import { Cluster, type Redis } from 'ioredis';

import { SidecarError } from '../core/errors';
import { mastersOf, nodeAddress, type QueueConnection } from './connections';

export type Durability = 'applied' | 'fsync' | 'replicated';

interface RedisFacts {
  readonly maxmemory: number;
  readonly policy: string;
  readonly appendonly: boolean;
  readonly appendfsync: string;
  readonly connectedReplicas: number;
}

function infoField(info: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m?.[1]?.trim();
}

/** Redis' answers that mean CONFIG is not offered here (renamed, or denied by ACLs on a managed Redis). */
const configUnavailable = /^(ERR unknown command|NOPERM|ERR unknown subcommand)/;

async function configGet(redis: Redis, name: string): Promise<string | undefined> {
  try {
    const reply: unknown = await redis.call('CONFIG', 'GET', name);
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  } catch (err) {
    // Only a CONFIG that is not offered falls back to INFO. A dropped connection or a Redis still loading its
    // AOF is transient: reading it as "appendfsync unknown" would report a healthy Redis as not durable.
    if (err instanceof Error && configUnavailable.test(err.message)) return undefined;
    throw err;
  }
}

/** Reads what the queue's safety depends on. */
async function readRedisFacts(redis: Redis): Promise<RedisFacts> {
  const memory = await redis.info('memory');
  const persistence = await redis.info('persistence');
  const replication = await redis.info('replication');
  const appendfsync = (await configGet(redis, 'appendfsync')) ?? 'unknown';
  return {
    maxmemory: Number(infoField(memory, 'maxmemory') ?? '0'),
    policy: infoField(memory, 'maxmemory_policy') ?? (await configGet(redis, 'maxmemory-policy')) ?? 'unknown',
    appendonly: infoField(persistence, 'aof_enabled') === '1',
    appendfsync,
    connectedReplicas: Number(infoField(replication, 'connected_slaves') ?? '0'),
  };
}

/**
 * Refuses a Redis that could lose accepted data: any eviction policy, or a durability level it cannot give.
 */
function assertRedisSafe(facts: RedisFacts, durability: Durability, replicas: number): void {
  if (facts.policy !== 'noeviction') {
    throw new SidecarError(
      'SIDECAR_ERR_REDIS_POLICY',
      `Redis runs maxmemory-policy ${facts.policy}; queued events could be evicted`,
      {
        remediation: 'run `CONFIG SET maxmemory-policy noeviction` and put `maxmemory-policy noeviction` in redis.conf',
      },
    );
  }
  if (durability === 'fsync' && !(facts.appendonly && facts.appendfsync === 'always')) {
    throw new SidecarError(
      'SIDECAR_ERR_REDIS_DURABILITY',
      `queue.durability is fsync but Redis runs appendonly ${facts.appendonly ? 'yes' : 'no'}, appendfsync ${facts.appendfsync}`,
      {
        remediation: 'set `appendonly yes` and `appendfsync always` in redis.conf, or choose queue.durability: applied',
      },
    );
  }
  if (durability === 'replicated' && facts.connectedReplicas < replicas) {
    throw new SidecarError(
      'SIDECAR_ERR_REDIS_DURABILITY',
      `queue.durability is replicated with queue.replicas ${replicas} but Redis has ${facts.connectedReplicas} connected replicas`,
      {
        remediation: 'attach replicas to the Redis primary, lower queue.replicas, or choose queue.durability: applied',
      },
    );
  }
}

/** One master's facts, with its address when the queue is on a cluster (null for the one Redis). */
export interface MasterFacts {
  readonly node: string | null;
  readonly facts: RedisFacts;
}

/**
 * Reads and checks every master the queue lives on (the one Redis, or each master of a cluster); the first that
 * could lose accepted data is refused, its host:port named in the message. A single Redis is checked and
 * reported exactly as assertRedisSafe does.
 */
export async function verifyMasters(
  connection: QueueConnection,
  durability: Durability,
  replicas: number,
): Promise<MasterFacts[]> {
  const masters = mastersOf(connection);
  if (connection instanceof Cluster && masters.length === 0)
    throw new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', 'the Redis Cluster reports no master');
  const all: MasterFacts[] = [];
  for (const master of masters) {
    const node = connection instanceof Cluster ? nodeAddress(master) : null;
    const facts = await readRedisFacts(master);
    try {
      assertRedisSafe(facts, durability, replicas);
    } catch (err) {
      if (node === null || !(err instanceof SidecarError)) throw err;
      throw new SidecarError(err.code, `Redis Cluster master ${node}: ${err.message}`, {
        ...(err.remediation === undefined
          ? {}
          : { remediation: `on ${node} and every other master: ${err.remediation}` }),
      });
    }
    all.push({ node, facts });
  }
  return all;
}
