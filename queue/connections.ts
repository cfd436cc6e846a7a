import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connections by role. The proxy's fails fast (no offline queue, one try, short command timeout) so a Redis
 * outage becomes an immediate 503 instead of requests piling up in memory. Worker connections block on
 * BRPOPLPUSH-style commands and so need maxRetriesPerRequest: null, as BullMQ requires.
 */
export function createProducerConnection(url: string, commandTimeoutMs: number): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(attempt * 200, 1000),
    lazyConnect: true,
  };
  return new Redis(url, options);
}

export function createWorkerConnection(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
    lazyConnect: true,
  });
}
