import type { Redis } from 'ioredis';

import { SidecarError } from '../core/errors';
import type { QueueConnection } from './connections';
import { type Durability, verifyMasters } from './redis-checks';

export type RedisSafety =
  | { readonly state: 'safe' }
  /** Not read since the connection was (re)established: a restarted Redis may run another config. */
  | { readonly state: 'unchecked'; readonly reason: string }
  /** Redis evicts, or gives less than the required durability: `code` and `reason` say which and how to fix it. */
  | { readonly state: 'unsafe'; readonly code: string; readonly reason: string };

export interface RedisSafetyOptions {
  /** What must hold: the proxy asks for queue.durability; a forwarder for `applied` (no eviction) only. */
  readonly durability: Durability;
  readonly replicas: number;
  /** Least time between two reads of the facts (default 1 s). */
  readonly intervalMs?: number;
  /** Called when the state goes from safe to unsafe or back (not for unchecked in between). */
  readonly onChange?: (next: RedisSafety, previous: RedisSafety) => void;
}

/**
 * What the queue's safety depends on (maxmemory-policy noeviction, appendonly/appendfsync, replicas), read again
 * after every reconnection and at most every `intervalMs`, so an operator's `CONFIG SET` or a Redis restarted with
 * another config is seen within a second, not at the next process start. The proxy and the forwarders share it:
 * the proxy answers 503 while it is not safe, a forwarder stops taking jobs.
 */
export class RedisSafetyWatch {
  private state: RedisSafety = { state: 'unchecked', reason: 'Redis not checked yet' };
  /** The last verdict (safe or unsafe), kept across reconnections so a change is reported once. */
  private verdict: RedisSafety = this.state;
  private lastCheck = 0;
  private checking: Promise<RedisSafety> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly intervalMs: number;
  private readonly onReady = (): void => {
    this.state = { state: 'unchecked', reason: 'Redis reconnected: checking its configuration again' };
    this.lastCheck = 0;
    void this.check().catch(() => undefined);
  };

  /** On a Redis Cluster every master is read (the first unsafe one is named), on each check. */
  constructor(
    private readonly redis: QueueConnection,
    private readonly options: RedisSafetyOptions,
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    redis.on('ready', this.onReady);
  }

  current(): RedisSafety {
    return this.state;
  }

  /**
   * Reads the facts unless they were read less than `intervalMs` ago; resolves with the state. A connection
   * error or a Redis still loading rejects and leaves the state as it was (the caller reports Redis unavailable).
   */
  check(): Promise<RedisSafety> {
    if (this.state.state !== 'unchecked' && Date.now() - this.lastCheck < this.intervalMs)
      return Promise.resolve(this.state);
    this.checking ??= this.read().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  /** The next check() reads the facts again whatever their age (a proxy waking from an idle spell). */
  expire(): void {
    this.lastCheck = 0;
  }

  /** Whether the facts were last read `ms` ago or longer (never read: true). */
  expired(ms: number): boolean {
    return Date.now() - this.lastCheck >= ms;
  }

  /**
   * Checks every `everyMs` (default `intervalMs`) by itself, for a process that has no poll loop of its own; one
   * that calls check() as it works can check rarely here and keep the `intervalMs` pace while busy.
   */
  start(everyMs = this.intervalMs): void {
    this.timer ??= setInterval(() => void this.check().catch(() => undefined), everyMs).unref();
  }

  stop(): void {
    this.redis.off('ready', this.onReady);
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async read(): Promise<RedisSafety> {
    let next: RedisSafety = { state: 'safe' };
    try {
      await verifyMasters(this.redis, this.options.durability, this.options.replicas);
    } catch (err) {
      if (!(err instanceof SidecarError)) throw err;
      next = { state: 'unsafe', code: err.code, reason: err.message };
    }
    this.lastCheck = Date.now();
    const previous = this.verdict;
    this.state = next;
    this.verdict = next;
    if (previous.state !== next.state && !(previous.state === 'unchecked' && next.state === 'safe'))
      this.options.onChange?.(next, previous);
    return next;
  }
}

/**
 * One RedisSafetyWatch per master the queue lives on (the one Redis, or each master of a cluster, found as the
 * partitions' slots move): a master that no longer gives the durability stops only the partitions it serves.
 * `onChange` gets the master's address on a cluster (null for the one Redis).
 */
export class MasterSafety {
  private readonly watches = new Map<Redis, RedisSafetyWatch>();

  constructor(
    private readonly options: Omit<RedisSafetyOptions, 'onChange'> & {
      readonly onChange?: (next: RedisSafety, node: Redis) => void;
    },
  ) {}

  /** The watch of `master`, made on first use (it re-reads the facts after each reconnection of that master). */
  of(master: Redis): RedisSafetyWatch {
    let watch = this.watches.get(master);
    if (watch === undefined) {
      const { onChange, ...rest } = this.options;
      watch = new RedisSafetyWatch(master, {
        ...rest,
        ...(onChange === undefined ? {} : { onChange: (next: RedisSafety) => onChange(next, master) }),
      });
      this.watches.set(master, watch);
    }
    return watch;
  }

  /** Drops the watches of masters no longer in `current` (a failed-over master's connection is gone). */
  prune(current: readonly Redis[]): void {
    for (const [master, watch] of this.watches)
      if (!current.includes(master)) {
        watch.stop();
        this.watches.delete(master);
      }
  }

  stop(): void {
    for (const watch of this.watches.values()) watch.stop();
    this.watches.clear();
  }
}
