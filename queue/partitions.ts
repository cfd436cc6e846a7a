import { PARTITION_TAGS } from '../core/partition-tags';

/**
 * One BullMQ queue of the intake and the keys kept beside it (dead letters, job starts). Everything of a partition
 * shares one hash tag, so on a Redis Cluster it lives in one slot on one master.
 */
export interface Partition {
  readonly index: number;
  /** The BullMQ queue name (its keys are `bull:<queueName>:...`). */
  readonly queueName: string;
  /** Prefix of apm-sidecar's own keys for this partition, e.g. `apm-sidecar:{apm-intake}` + `:dlq`. */
  readonly keyPrefix: string;
  /** The label value in metrics and logs: the partition's index. */
  readonly label: string;
}

/**
 * The partitions of queue `name`. One partition is today's single queue with its key names unchanged (so an
 * upgrade drains what is queued); N > 1 gives `name-{tag}` queues with the first N tags of PARTITION_TAGS.
 */
export function partitionsOf(name: string, count: number): Partition[] {
  if (count === 1) return [{ index: 0, queueName: name, keyPrefix: keyPrefixOf(name), label: '0' }];
  return PARTITION_TAGS.slice(0, count).map((tag, index) => ({
    index,
    queueName: `${name}-{${tag}}`,
    keyPrefix: `apm-sidecar:${name}:{${tag}}`,
    label: String(index),
  }));
}

/**
 * The key prefix of a partition, or of a bare queue name: that name's single queue (`partitionsOf(name, 1)`), whose
 * keys are those of before partitions existed.
 */
export function keyPrefixOf(queue: string | Pick<Partition, 'keyPrefix'>): string {
  return typeof queue === 'string' ? `apm-sidecar:{${queue}}` : queue.keyPrefix;
}
