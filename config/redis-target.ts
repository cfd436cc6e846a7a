import { SidecarError } from '../core/errors';
import type { SidecarConfig } from './schema';

/**
 * Where the queue's Redis is: one URL, or a master found through Redis Sentinel (followed after a failover).
 * Every role (proxy, forwarder, `dlq`, `check`) resolves it from the same keys.
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: ReadonlyArray<{ readonly host: string; readonly port: number }>;
      readonly masterName: string;
      /** queue.redis.url when also set: only its credentials, TLS and database are used. */
      readonly url: string | null;
    };

type RedisSettings = SidecarConfig['queue']['redis'];

function hostPort(text: string): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(text.slice(at + 1)) };
}

/** The configured target, or null when no Redis is configured at all (only `start` runs its own). */
export function redisTargetOf(settings: RedisSettings): RedisTarget | null {
  const nodes = settings.sentinel.nodes;
  if (nodes.length > 0)
    return {
      kind: 'sentinel',
      sentinels: nodes.map(hostPort),
      masterName: settings.sentinel.master_name,
      url: settings.url,
    };
  return settings.url === null ? null : { kind: 'single', url: settings.url };
}

/**
 * The queue's Redis, which every process but `start` needs (it runs its own redis-server); said once, for every
 * role, when neither way of naming it is set.
 */
export function requireRedisTarget(config: SidecarConfig, role: string): RedisTarget {
  const target = redisTargetOf(config.queue.redis);
  if (target !== null) return target;
  throw new SidecarError(
    'SIDECAR_ERR_CONFIG_INVALID',
    `queue.redis.url is not set (nor queue.redis.sentinel.nodes): the ${role} needs the queue`,
    {
      remediation:
        'set queue.redis.url (APM_SIDECAR_REDIS_URL) to the Redis the proxies and forwarders share, or queue.redis.sentinel.nodes (APM_SIDECAR_REDIS_SENTINELS) and .master_name (APM_SIDECAR_REDIS_SENTINEL_MASTER), or run `apm-sidecar start` for a local all-in-one',
    },
  );
}

/** Names the target in messages: the config key, never the URL (it may hold a password). */
export function describeRedisTarget(target: RedisTarget): string {
  return target.kind === 'single'
    ? 'queue.redis.url'
    : `Sentinel master ${target.masterName} (queue.redis.sentinel.nodes ${target.sentinels.map((s) => `${s.host}:${s.port}`).join(',')})`;
}
