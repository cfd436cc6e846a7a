import { Redis, type RedisOptions } from 'ioredis';

import type { RedisTarget } from '../config/redis-target';

/** The parts of a redis:// or rediss:// URL that apply to a master found through Sentinel. */
function urlOptions(url: string | null): RedisOptions {
  if (url === null) return {};
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  return {
    ...(parsed.username === '' ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === '' ? {} : { password: decodeURIComponent(parsed.password) }),
    ...(db === '' ? {} : { db: Number(db) }),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

/** A master demoted by a failover answers writes with READONLY: reconnect, which asks the sentinels again. */
function demoted(err: Error): boolean {
  return err.message.startsWith('READONLY');
}

function connect(target: RedisTarget, options: RedisOptions): Redis {
  if (target.kind === 'single') return new Redis(target.url, options);
  return new Redis({
    ...urlOptions(target.url),
    ...options,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.masterName,
    role: 'master',
    // Not failoverDetector: its +switch-master handler closes the connector while it is resolving the master
    // (the old one being down), and ioredis 5.11 then ends the connection for good ("Connection is closed.").
    // A killed master drops the connection, a demoted one answers READONLY: both reconnect through the sentinels.
    sentinelRetryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
}

/**
 * Connections by role. The proxy's fails fast (no offline queue, one try, short command timeout) so a Redis
 * outage becomes an immediate 503 instead of requests piling up in memory. Worker connections block on
 * BRPOPLPUSH-style commands and so need maxRetriesPerRequest: null, as BullMQ requires.
 */
export function createProducerConnection(target: RedisTarget, commandTimeoutMs: number): Redis {
  return connect(target, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 200, 1000),
    // The failed command is answered 503 (the agent's request fails, nothing is acknowledged); then reconnect.
    reconnectOnError: demoted,
    lazyConnect: true,
  });
}

export function createWorkerConnection(target: RedisTarget): Redis {
  return connect(target, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    // Reconnect, then send the refused command again to the new master.
    reconnectOnError: (err) => (demoted(err) ? 2 : false),
    lazyConnect: true,
  });
}
