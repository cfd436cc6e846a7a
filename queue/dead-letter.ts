import { SidecarError } from '../core/errors';
import type { QueueConnection } from './connections';
import { type DeadLetterEntry, parseDeadLetterEntry } from './dead-letter/entry';
import { keyPrefixOf, type Partition } from './partitions';

export type { DeadLetterEntry } from './dead-letter/entry';
export { parseReplayJobData, replayJobName } from './dead-letter/entry';

/**
 * Adds entries and enforces the bounds in one step, so every forwarder sharing the queue sees the same bounded
 * set. Entries are keyed by document `_id`: a redelivered job that dead-letters the same event again replaces its
 * entry instead of adding a second. Entries past max_age (when one is set) are dropped first. Then, over max_entries: with
 * ARGV[4] = block nothing is written and -1 is returned (the caller keeps the documents); with drop_oldest the
 * oldest entries make room. Returns how many old entries were dropped.
 */
const addScript = `
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
for _, id in ipairs(expired) do redis.call('HDEL', KEYS[1], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
local dropped = #expired
if ARGV[4] == 'block' then
  local fresh = 0
  for i = 5, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 then fresh = fresh + 1 end
  end
  if fresh > 0 and redis.call('ZCARD', KEYS[2]) + fresh > tonumber(ARGV[2]) then
    if dropped > 0 then redis.call('INCRBY', KEYS[3], dropped) end
    return -1
  end
end
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
end
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

/**
 * Claims up to ARGV[4] entries dead-lettered at or before ARGV[1] (and of reason ARGV[2] unless empty), starting
 * ARGV[3] positions in: moves them out of the queue into the claim hash KEYS[3] in one step, so two replays
 * running at once never take the same entry and never skip one. Returns {skipped, scanned, id1, raw1, ...}.
 */
const claimScript = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', tonumber(ARGV[3]), tonumber(ARGV[4]))
local out = {0, #ids}
local skipped = 0
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[1], id)
  local take = raw ~= false
  if take and ARGV[2] ~= '' then
    local ok, decoded = pcall(cjson.decode, raw)
    take = ok and type(decoded) == 'table' and decoded.reason == ARGV[2]
  end
  if take then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('HSET', KEYS[3], id, raw)
    table.insert(out, id)
    table.insert(out, raw)
  elseif raw == false then
    redis.call('ZREM', KEYS[2], id)
  else
    skipped = skipped + 1
  end
end
if #out > 2 then redis.call('ZADD', KEYS[4], ARGV[5], KEYS[3]) end
out[1] = skipped
return out
`;

/** Puts claimed entries back (a replay that could not enqueue them, or one that died holding them). */
const unclaimScript = `
local kv = redis.call('HGETALL', KEYS[3])
for i = 1, #kv, 2 do
  if redis.call('HEXISTS', KEYS[1], kv[i]) == 0 then
    redis.call('HSET', KEYS[1], kv[i], kv[i + 1])
    redis.call('ZADD', KEYS[2], ARGV[1], kv[i])
  end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[4], KEYS[3])
`;

export interface DeadLetterBounds {
  readonly maxEntries: number;
  /** queue.dead_letter.max_age: entries older than this are dropped (and counted); 0 (the default): no age bound. */
  readonly maxAgeMs: number;
  /** queue.dead_letter.when_full (default block: add() throws DeadLetterFullError instead of dropping). */
  readonly whenFull?: 'block' | 'drop_oldest';
  /** Called when add() refused entries because the queue is full (the forwarder stops taking jobs). */
  readonly onFull?: () => void;
}

/** The dead-letter queue is at max_entries and when_full is block: the documents were not stored. */
export class DeadLetterFullError extends SidecarError {
  constructor(maxEntries: number) {
    super(
      'SIDECAR_ERR_DLQ_FULL',
      `the dead-letter queue holds queue.dead_letter.max_entries (${maxEntries}) documents`,
      {
        remediation:
          'fix the cause, then `apm-sidecar dlq replay` (or `dlq purge` what cannot be fixed), or raise queue.dead_letter.max_entries',
      },
    );
  }
}

/** Entries one replay (or purge) holds while it enqueues them; a claim older than this was left by a dead run. */
const staleClaimMs = 10 * 60_000;

export interface StoredEntry {
  readonly entry: DeadLetterEntry;
}

/**
 * The dead-letter queue of one partition in Redis (under the partition's key prefix, so in its slot), shared by
 * every forwarder of the queue.
 */
export class DeadLetterQueue {
  private readonly entriesKey: string;
  private readonly orderKey: string;
  private readonly droppedKey: string;
  private readonly claimsKey: string;
  private readonly base: string;

  constructor(
    private readonly redis: QueueConnection,
    /** The partition, or a queue name: that name's single queue. */
    partition: string | Pick<Partition, 'keyPrefix'>,
    private readonly bounds: DeadLetterBounds,
  ) {
    const base = `${keyPrefixOf(partition)}:dlq`;
    this.entriesKey = `${base}:entries`;
    this.orderKey = `${base}:order`;
    this.droppedKey = `${base}:dropped`;
    this.claimsKey = `${base}:claims`;
    this.base = base;
  }

  /** Stores entries; resolves with the number of old entries dropped to stay within the bounds. */
  async add(entries: readonly DeadLetterEntry[], now = Date.now()): Promise<number> {
    if (entries.length === 0) return 0;
    const pairs = entries.flatMap((e) => [e.id, JSON.stringify(e)]);
    const mode = this.bounds.whenFull ?? 'block';
    // Scores are dead-lettering times in ms: a cutoff of 0 expires nothing.
    const cutoff = this.bounds.maxAgeMs > 0 ? now - this.bounds.maxAgeMs : 0;
    const args = [String(now), String(this.bounds.maxEntries), String(cutoff), mode, ...pairs];
    const dropped: unknown = await this.redis.eval(
      addScript,
      3,
      this.entriesKey,
      this.orderKey,
      this.droppedKey,
      ...args,
    );
    if (dropped === -1) {
      this.bounds.onFull?.();
      throw new DeadLetterFullError(this.bounds.maxEntries);
    }
    return typeof dropped === 'number' ? dropped : 0;
  }

  /** True while another add of `count` new entries would fit (what a blocked forwarder waits for). */
  async hasRoom(count = 1): Promise<boolean> {
    return (await this.size()) + count <= this.bounds.maxEntries;
  }

  /**
   * Takes up to `count` entries (dead-lettered at or before `cutoff`, of `reason` when given) out of the queue
   * into the claim `claimId`, starting `skip` positions in. Entries of another reason are left and counted in
   * `skipped`; `scanned` < count means the walk reached the end. Unparseable entries go back into the queue
   * (after `cutoff`), unless `dropCorrupt` (purge), which leaves them in the claim to be released.
   */
  async claim(
    claimId: string,
    options: { cutoff: number; reason: string | undefined; skip: number; count: number; dropCorrupt?: boolean },
  ): Promise<{ entries: StoredEntry[]; skipped: number; scanned: number }> {
    const reply: unknown = await this.redis.eval(
      claimScript,
      4,
      this.entriesKey,
      this.orderKey,
      this.claimKey(claimId),
      this.claimsKey,
      String(options.cutoff),
      options.reason ?? '',
      String(options.skip),
      String(options.count),
      String(Date.now()),
    );
    if (!Array.isArray(reply)) return { entries: [], skipped: 0, scanned: 0 };
    const values: unknown[] = reply;
    const [skipped, scanned, ...pairs] = values;
    const entries: StoredEntry[] = [];
    for (let i = 0; i + 1 < pairs.length; i += 2) {
      const raw = pairs[i + 1];
      if (typeof raw !== 'string') continue;
      const stored = parseStored(raw);
      if (stored !== undefined) entries.push(stored);
      else if (options.dropCorrupt !== true) {
        // A corrupted entry cannot be replayed: it goes back (after the walk's cut-off), where purge can remove it.
        const id = String(pairs[i]);
        await this.redis
          .multi()
          .hdel(this.claimKey(claimId), id)
          .hset(this.entriesKey, id, raw)
          .zadd(this.orderKey, Date.now(), id)
          .exec();
      }
    }
    return { entries, skipped: Number(skipped), scanned: Number(scanned) };
  }

  /** Done with a claim: its entries were enqueued (replay) or are meant to go (purge). */
  async release(claimId: string): Promise<void> {
    await this.redis.multi().del(this.claimKey(claimId)).zrem(this.claimsKey, this.claimKey(claimId)).exec();
  }

  /** Puts a claim's entries back into the queue (the enqueue failed). */
  async unclaim(claimId: string): Promise<void> {
    await this.restore(this.claimKey(claimId), Date.now());
  }

  /** Puts back what runs that died holding a claim left behind (older than 10 minutes). */
  async restoreStaleClaims(now = Date.now()): Promise<void> {
    const stale = await this.redis.zrangebyscore(this.claimsKey, '-inf', String(now - staleClaimMs));
    for (const key of stale) await this.restore(key, now);
  }

  private async restore(claimKey: string, now: number): Promise<void> {
    await this.redis.eval(unclaimScript, 4, this.entriesKey, this.orderKey, claimKey, this.claimsKey, String(now));
  }

  private claimKey(claimId: string): string {
    return `${this.base}:claim:${claimId}`;
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
    return { positions: ids.length, entries: raws.flatMap((raw) => (raw === null ? [] : (parseStored(raw) ?? []))) };
  }
}

/** An entry as stored, or undefined when it does not parse (a corrupted entry). */
function parseStored(raw: string): StoredEntry | undefined {
  try {
    return { entry: parseDeadLetterEntry(JSON.parse(raw)) };
  } catch {
    return undefined;
  }
}
