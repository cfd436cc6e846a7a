import keySlot from 'cluster-key-slot';
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

import type { RedisTarget } from '../config/redis-target';

/**
 * A connection to the queue's Redis as both roles hold it: one Redis (single URL or the Sentinel master) or an
 * ioredis Cluster (queue.redis.cluster.nodes). BullMQ takes either as `connection`; a partition's keys share one
 * hash tag, so on a cluster each partition's scripts run on the one master that owns its slot.
 */
export type QueueConnection = Redis | Cluster;

type ServerTarget = Exclude<RedisTarget, { kind: 'cluster' }>;

/** The parts of a redis:// or rediss:// URL that apply to a master found through Sentinel or to cluster nodes. */
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

function connect(target: ServerTarget, roleOptions: RedisOptions): Redis {
  const options = { ...roleOptions, lazyConnect: true };
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
 * An ioredis Cluster over the seed nodes: credentials and TLS from queue.redis.url (a cluster has no database
 * but 0). MOVED/ASK are followed, CLUSTERDOWN and TRYAGAIN retried after 100 ms, at most `maxRedirections` times.
 */
function connectCluster(
  target: Extract<RedisTarget, { kind: 'cluster' }>,
  options: Omit<ClusterOptions, 'redisOptions'>,
  nodeOptions: NonNullable<ClusterOptions['redisOptions']>,
): Cluster {
  const { db: _db, ...credentials } = urlOptions(target.url);
  return new Cluster(
    target.nodes.map((n) => ({ host: n.host, port: n.port })),
    {
      enableReadyCheck: true,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2000,
      lazyConnect: true,
      ...options,
      redisOptions: { ...credentials, ...nodeOptions },
    },
  );
}

/**
 * Connections by role. The proxy's fails fast (no offline queue, one try, short command timeout) so a Redis
 * outage becomes an immediate 503 (or, on a cluster, a retry on another partition) instead of requests piling up
 * in memory. Worker connections block on BZPOPMIN-style commands and so need maxRetriesPerRequest: null, as
 * BullMQ requires (on a cluster: in every node's options).
 */
export function queueProducerConnection(target: RedisTarget, commandTimeoutMs: number): QueueConnection {
  const producer: RedisOptions = {
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(commandTimeoutMs, 1000),
  };
  if (target.kind !== 'cluster')
    return connect(target, {
      ...producer,
      enableOfflineQueue: false,
      retryStrategy: (attempt) => Math.min(attempt * 200, 1000),
      // The failed command is answered 503 (the agent's request fails, nothing is acknowledged); then reconnect.
      reconnectOnError: demoted,
    });
  return connectCluster(
    target,
    {
      enableOfflineQueue: false,
      // A partition whose master is failing over is left for another after a few tries (the proxy retries once
      // elsewhere), not followed for the whole command timeout.
      maxRedirections: 6,
      clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 1000),
    },
    producer,
  );
}

export function queueWorkerConnection(target: RedisTarget): QueueConnection {
  if (target.kind !== 'cluster')
    return connect(target, {
      maxRetriesPerRequest: null,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      // Reconnect, then send the refused command again to the new master.
      reconnectOnError: (err) => (demoted(err) ? 2 : false),
    });
  return connectCluster(
    target,
    { maxRedirections: 16, clusterRetryStrategy: (attempt) => Math.min(attempt * 200, 2000) },
    { maxRetriesPerRequest: null },
  );
}

/**
 * The masters the queue's data lives on: the one Redis, or every master of the cluster (as of its last slots
 * refresh). Safety checks read each.
 */
export function mastersOf(connection: QueueConnection): Redis[] {
  return connection instanceof Cluster ? connection.nodes('master') : [connection];
}

/** host:port of a node, for messages naming it (never its credentials). */
export function nodeAddress(redis: Redis): string {
  const { host, port } = redis.options;
  return `${host ?? '127.0.0.1'}:${port ?? 6379}`;
}

/**
 * The master that serves `key` now: the one Redis, or on a cluster the master owning the key's slot as of the
 * client's last slots refresh (undefined while no master is known for it, e.g. during a failover). Key-less
 * commands such as WAIT must go to it: ioredis sends them to a random master.
 */
export function masterFor(connection: QueueConnection, key: string): Redis | undefined {
  if (!(connection instanceof Cluster)) return connection;
  const owner = connection.slots[keySlot(key)]?.[0];
  if (owner === undefined) return undefined;
  return connection.nodes('master').find((n) => nodeAddress(n) === owner);
}
