import type { Redis } from 'ioredis';
import { parseDeadLetterEntry, type DeadLetterEntry } from './dead-letter/entry';

export { parseDeadLetterEntry, replayJobName, parseReplayJobData } from './dead-letter/entry';
export type { DeadLetterEntry, ReplayJobData } from './dead-letter/entry';

/**
 * Adds entries and enforces the bounds in one step, so every forwarder sharing the queue sees the same bounded
 * set. Entries are keyed by document `_id`: a redelivered job that dead-letters the same event again replaces its
 * entry instead of adding a second. Returns how many old entries were dropped.
 */
const addScript = `
for i = 4, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
end
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[1], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local dropped = #expired
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if excess > 0 then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, excess - 1)
  for _, id in ipairs(oldest) do redis.call('HDEL', KEYS[1], id) end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  dropped = dropped + excess
end
if dropped > 0 then redis.call('INCRBY', KEYS[3], dropped) end
return dropped
`;

/** Removes entries only if they are still what was read: one dead-lettered again meanwhile is newer and stays. */
const removeIfUnchangedScript = `
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    redis.call('ZREM', KEYS[2], ARGV[i])
    removed = removed + 1
  end
end
return removed
`;

export interface DeadLetterBounds {
  readonly maxEntries: number;
  readonly maxAgeMs: number;
}

export interface StoredEntry {
  readonly entry: DeadLetterEntry;
  /** The JSON as stored; removal compares it so a newer entry for the same document is kept. */
  readonly raw: string;
}

/** The dead-letter queue in Redis, shared by every forwarder on the same queue name. */
export class DeadLetterQueue {
  private readonly entriesKey: string;
  private readonly orderKey: string;
  private readonly droppedKey: string;

  constructor(
    private readonly redis: Redis,
    queueName: string,
    private readonly bounds: DeadLetterBounds,
  ) {
    const base = `apm-sidecar:{${queueName}}:dlq`;
    this.entriesKey = `${base}:entries`;
    this.orderKey = `${base}:order`;
    this.droppedKey = `${base}:dropped`;
  }

  /** Stores entries; resolves with the number of old entries dropped to stay within the bounds. */
  async add(entries: readonly DeadLetterEntry[], now = Date.now()): Promise<number> {
    if (entries.length === 0) return 0;
    const pairs = entries.flatMap((e) => [e.id, JSON.stringify(e)]);
    const args = [String(now), String(this.bounds.maxEntries), String(now - this.bounds.maxAgeMs), ...pairs];
    const dropped: unknown = await this.redis.eval(addScript, 3, this.entriesKey, this.orderKey, this.droppedKey, ...args);
    return typeof dropped === 'number' ? dropped : 0;
  }

  async size(): Promise<number> {
    return this.redis.zcard(this.orderKey);
  }

  /** Entries dropped by the bounds since the queue was created. */
  async droppedTotal(): Promise<number> {
    return Number((await this.redis.get(this.droppedKey)) ?? '0');
  }

  /**
   * Up to `count` entries from position `offset` in time order (oldest first). `positions` is how many positions
   * the page covered, so a caller that removes entries as it goes can compute the next offset. Unparseable
   * entries are skipped (a corrupted entry must not stop list or replay of the others; purge removes it).
   */
  async page(offset: number, count: number): Promise<{ positions: number; entries: StoredEntry[] }> {
    const ids = await this.redis.zrange(this.orderKey, offset, offset + count - 1);
    if (ids.length === 0) return { positions: 0, entries: [] };
    const raws = await this.redis.hmget(this.entriesKey, ...ids);
    const entries: StoredEntry[] = [];
    for (const raw of raws) {
      if (raw === null) continue;
      try {
        entries.push({ entry: parseDeadLetterEntry(JSON.parse(raw)), raw });
      } catch {
        continue;
      }
    }
    return { positions: ids.length, entries };
  }

  /** Removes the given entries if unchanged since read; resolves with how many were removed. */
  async remove(entries: readonly StoredEntry[]): Promise<number> {
    if (entries.length === 0) return 0;
    const args = entries.flatMap((e) => [e.entry.id, e.raw]);
    const removed: unknown = await this.redis.eval(removeIfUnchangedScript, 2, this.entriesKey, this.orderKey, ...args);
    return typeof removed === 'number' ? removed : 0;
  }
}
