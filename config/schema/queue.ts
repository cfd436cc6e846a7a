import type { Schema } from 'convict';

/** queue: Redis, durability, admission and the dead-letter queue. */
export interface QueueConfig {
  redis: {
    url: string | null;
    command_timeout: string;
    sentinel: { nodes: string[]; master_name: string };
    cluster: { nodes: string[] };
  };
  name: string;
  partitions: number;
  durability: 'applied' | 'fsync' | 'replicated';
  replicas: number;
  high_water_mark: { jobs: number; bytes: number };
  retention: { completed: number };
  dead_letter: { max_entries: number; max_age: string; when_full: 'block' | 'drop_oldest' };
}

export const queueSchema: Schema<QueueConfig> = {
  redis: {
    url: {
      doc: 'Redis URL (redis:// or rediss://). Unset: `apm-sidecar start` runs a private redis-server; other commands require it.',
      format: 'optional-url',
      default: null,
      env: 'APM_SIDECAR_REDIS_URL',
      sensitive: true,
    },
    command_timeout: {
      doc: 'How long the proxy waits for Redis to acknowledge a job before answering 503. With queue.partitions > 1 this bounds the whole request: a first try on one partition gets half of it, a retry on another partition the rest.',
      format: 'duration',
      default: '5s',
    },
    sentinel: {
      nodes: {
        doc: 'Redis Sentinel addresses (host:port, comma-separated in the environment). Set: proxies, forwarders and `dlq` ask the sentinels for the master of queue.redis.sentinel.master_name and follow it after a failover; queue.redis.url, when also set, gives only the credentials, TLS (rediss://) and database of the master, its host and port are ignored.',
        format: 'host-port-list',
        default: [],
        env: 'APM_SIDECAR_REDIS_SENTINELS',
      },
      master_name: {
        doc: 'The master name the sentinels monitor (`sentinel monitor <name> ...`), used with queue.redis.sentinel.nodes.',
        format: String,
        default: 'mymaster',
        env: 'APM_SIDECAR_REDIS_SENTINEL_MASTER',
      },
    },
    cluster: {
      nodes: {
        doc: "Redis Cluster seed nodes (host:port, comma-separated in the environment). Set: the queue.partitions queues are spread over the cluster's masters by hash tag; queue.redis.url, when also set, gives only the credentials and TLS (rediss://) of every node. Not with queue.redis.sentinel.nodes.",
        format: 'host-port-list',
        default: [],
        env: 'APM_SIDECAR_REDIS_CLUSTER_NODES',
      },
    },
  },
  name: {
    doc: 'BullMQ queue name shared by proxies and forwarders.',
    format: String,
    default: 'apm-intake',
    env: 'APM_SIDECAR_QUEUE',
  },
  partitions: {
    doc: 'How many queues (partitions) the intake is spread over, each under its own Redis hash tag so a Redis Cluster places them on different masters. 1 (the default) is the single queue queue.name with the same key names as before. At most 12. Proxies and forwarders must agree on it; forwarders consume every partition. A proxy sends each job to the shorter of two open partitions and, when that add or WAIT fails, passes the partition over for 2 s and adds the job once more on another; it answers 503 only when no partition can take the request. 2 or more on a Redis Cluster.',
    format: 'partition-count',
    default: 1,
    env: 'APM_SIDECAR_QUEUE_PARTITIONS',
  },
  durability: {
    doc: 'When a 202 is sent: applied (Redis executed the write), fsync (Redis runs appendfsync always, so the write is on disk), replicated (WAIT for queue.replicas replicas).',
    format: ['applied', 'fsync', 'replicated'],
    default: 'applied',
    env: 'APM_SIDECAR_QUEUE_DURABILITY',
  },
  replicas: {
    doc: 'With durability replicated: how many replicas must have the job before the 202.',
    format: 'nat',
    default: 1,
  },
  high_water_mark: {
    jobs: {
      doc: "Waiting jobs above which intake answers 503 + Retry-After. 0: sized from Redis maxmemory. With queue.partitions > 1 each partition refuses at its share (this value / queue.partitions; sized: its master's mark split between the partitions that master serves) and intake refuses only when every partition does.",
      format: 'nat',
      default: 0,
    },
    bytes: {
      doc: "Queued payload bytes above which intake answers 503 + Retry-After. 0: half of Redis maxmemory (or 1 GiB when maxmemory is unset). On a Redis Cluster it is compared with each master's used memory, for the partitions that master serves.",
      format: 'nat',
      default: 0,
    },
  },
  retention: {
    completed: {
      doc: 'Completed jobs kept in Redis for inspection (BullMQ removeOnComplete count). 0 (the default): a job is removed as it completes. A kept job keeps its whole payload and so holds Redis memory that the byte high-water mark counts only while other jobs wait.',
      format: 'nat',
      default: 0,
    },
  },
  dead_letter: {
    max_entries: {
      doc: 'Most dead-lettered documents kept; what happens beyond it is queue.dead_letter.when_full.',
      format: 'nat',
      default: 100000,
    },
    max_age: {
      doc: 'Dead-lettered documents older than this are dropped, counted in apm_sidecar_dead_letter_dropped_total and logged at error. 0s (the default): no age bound; an acknowledged document is never dropped for its age unless an operator sets one.',
      format: 'duration',
      default: '0s',
    },
    when_full: {
      doc: 'What a full dead-letter queue (max_entries) does. block (the default): forwarders stop taking jobs until there is room, so the queue backs up and the proxy sheds with 503 at its high-water mark; nothing acknowledged is dropped. drop_oldest: the oldest entries are dropped to make room, counted in apm_sidecar_dead_letter_dropped_total and logged at error.',
      format: ['block', 'drop_oldest'],
      default: 'block',
    },
  },
};
