import { type ListenAddress, parseHostPort } from '../core/listen';
import { invalidConfig } from './invalid-config';
import type { SidecarConfig } from './schema';

/**
 * Where the queue's Redis is: one URL, a master found through Redis Sentinel (followed after a failover), or a
 * Redis Cluster given by seed nodes (the queue.partitions queues spread over its masters by hash tag). Every role
 * (proxy, forwarder, `dlq`, `check`) resolves it from the same keys.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: readonly ListenAddress[];
      readonly masterName: string;
      /** queue.redis.url when also set: only its credentials, TLS and database are used. */
      readonly url: string | null;
    }
  | {
      readonly kind: 'cluster';
      readonly nodes: readonly ListenAddress[];
      /** queue.redis.url when also set: only its credentials and TLS are used, for every node. */
      readonly url: string | null;
    };

/** The configured target, or null when no Redis is configured at all (only `start` runs its own). */
export function redisTargetOf(settings: SidecarConfig['queue']['redis']): RedisTarget | null {
  const sentinels = settings.sentinel.nodes;
  const clusterNodes = settings.cluster.nodes;
  if (sentinels.length > 0 && clusterNodes.length > 0)
    throw invalidConfig(
      'queue.redis.sentinel.nodes and queue.redis.cluster.nodes are both set: the queue is on a Sentinel-managed Redis or on a Redis Cluster, not both',
      'keep one: queue.redis.cluster.nodes (APM_SIDECAR_REDIS_CLUSTER_NODES) for a Redis Cluster (its replicas fail over by themselves), or queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) for one master watched by sentinels',
    );
  if (clusterNodes.length > 0) return { kind: 'cluster', nodes: clusterNodes.map(parseHostPort), url: settings.url };
  if (sentinels.length > 0)
    return {
      kind: 'sentinel',
      sentinels: sentinels.map(parseHostPort),
      masterName: settings.sentinel.master_name,
      url: settings.url,
    };
  return settings.url === null ? null : { kind: 'single', url: settings.url };
}

/**
 * The queue's Redis, which every process but `start` needs (it runs its own redis-server); said once, for every
 * role, when no way of naming it is set.
 */
export function requireRedisTarget(config: SidecarConfig, role: string): RedisTarget {
  const target = redisTargetOf(config.queue.redis);
  if (target?.kind === 'cluster' && config.queue.partitions < 2)
    throw invalidConfig(
      'queue.redis.cluster.nodes is set with queue.partitions 1: the single queue keeps its names from before, which have no hash tag, so BullMQ cannot run it on a Redis Cluster (and one queue lives on one master anyway)',
      'set queue.partitions (APM_SIDECAR_QUEUE_PARTITIONS) to a multiple of the number of masters, e.g. 3 or 6 for 3 masters',
    );
  if (target !== null) return target;
  throw invalidConfig(
    `queue.redis.url is not set (nor queue.redis.sentinel.nodes): the ${role} needs the queue`,
    'set queue.redis.url (APM_SIDECAR_REDIS_URL) to the Redis the proxies and forwarders share, or queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) and .master_name (APM_SIDECAR_REDIS_SENTINEL_MASTER), or queue.redis.cluster.nodes (APM_SIDECAR_REDIS_CLUSTER_NODES), or run `apm-sidecar start` for a local all-in-one',
  );
}

const joined = (nodes: readonly ListenAddress[]): string => nodes.map((n) => `${n.host}:${n.port}`).join(',');

/** Names the target in messages: the config key, never the URL (it may hold a password). */
export function describeRedisTarget(target: RedisTarget): string {
  if (target.kind === 'single') return 'queue.redis.url';
  if (target.kind === 'sentinel')
    return `Sentinel master ${target.masterName} (queue.redis.sentinel.nodes ${joined(target.sentinels)})`;
  return `Redis Cluster (queue.redis.cluster.nodes ${joined(target.nodes)})`;
}

/** What to fix when the target cannot be reached, by kind (the keys and their environment variables). */
export const redisTargetRemedies: Readonly<Record<RedisTarget['kind'], string>> = {
  single: 'start Redis or fix queue.redis.url (APM_SIDECAR_REDIS_URL)',
  sentinel:
    'check that the sentinels run and monitor that master, or fix queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) and .master_name (APM_SIDECAR_REDIS_SENTINEL_MASTER)',
  cluster:
    'check that the cluster is up (`redis-cli -c -h <node> cluster info` says cluster_state:ok), or fix queue.redis.cluster.nodes (APM_SIDECAR_REDIS_CLUSTER_NODES)',
};
