import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Cluster, Redis } from 'ioredis';

import { RedisServer } from './redis';

const run = promisify(execFile);

/** One node of the cluster as CLUSTER NODES lists it. */
interface ClusterNode {
  readonly id: string;
  readonly port: number;
  readonly master: boolean;
  /** The master's id, for a replica. */
  readonly masterId: string | null;
  readonly slots: ReadonlyArray<readonly [number, number]>;
  readonly failed: boolean;
}

/**
 * A real Redis Cluster on loopback for one test file: `masters` masters with one replica each (redis-servers
 * with AOF on and noeviction, `cluster-node-timeout 2000`, free ports, never 6379), made with
 * `redis-cli --cluster create ... --cluster-replicas 1`. `killMasterOf(slot)` SIGKILLs the master that owns a
 * slot; `failoverManually(slot)` runs CLUSTER FAILOVER on its replica; `waitForOwner()` resolves once another
 * master serves the slot.
 */
export class RedisClusterSet {
  private constructor(readonly servers: RedisServer[]) {}

  static async start(
    options: { readonly masters?: number; readonly args?: readonly string[] } = {},
  ): Promise<RedisClusterSet> {
    const masters = options.masters ?? 3;
    const args = ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', ...(options.args ?? [])];
    const servers = await Promise.all(Array.from({ length: masters * 2 }, () => RedisServer.start({ args })));
    const set = new RedisClusterSet(servers);
    try {
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ]);
      await set.waitUntil('cluster_state:ok on every node, each master with its replica', async () => {
        for (const s of servers) if (!(await set.stateOk(s.port))) return false;
        const nodes = await set.nodes();
        const up = nodes.filter((n) => !n.failed);
        return up.filter((n) => n.master).length === masters && up.filter((n) => !n.master).length === masters;
      });
      await set.waitForReplicasOnline();
    } catch (err) {
      await set.destroy();
      throw err;
    }
    return set;
  }

  /** The `queue.redis` config section that reaches this cluster through its seed nodes. */
  get queueRedis(): Record<string, unknown> {
    return { url: null, cluster: { nodes: this.servers.map((s) => `127.0.0.1:${s.port}`) } };
  }

  /** A client of the cluster for the test's own reads. */
  connect(): Cluster {
    return new Cluster(
      this.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
      { redisOptions: { maxRetriesPerRequest: null } },
    );
  }

  private async ask<T>(port: number, ask: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      connectTimeout: 1000,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await ask(redis);
    } finally {
      redis.disconnect();
    }
  }

  private async stateOk(port: number): Promise<boolean> {
    return /cluster_state:ok/.test(await this.ask(port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>));
  }

  /** CLUSTER NODES as the first live node sees it. */
  async nodes(): Promise<ClusterNode[]> {
    for (const s of this.servers) {
      if (s.pid === undefined) continue;
      try {
        const text = await this.ask(s.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
        return text
          .trim()
          .split('\n')
          .map((line) => {
            const [id = '', address = '', flags = '', masterId = '-', , , , , ...slots] = line.split(' ');
            return {
              id,
              port: Number(/:(\d+)@/.exec(address)?.[1] ?? '0'),
              master: flags.includes('master'),
              masterId: masterId === '-' ? null : masterId,
              failed: flags.split(',').some((f) => f === 'fail' || f === 'fail?' || f === 'noaddr'),
              slots: slots
                .filter((r) => !r.startsWith('['))
                .map((r) => {
                  const [from = '0', to = from] = r.split('-');
                  return [Number(from), Number(to)] as const;
                }),
            };
          });
      } catch {
        // the next node
      }
    }
    throw new Error('no cluster node answers');
  }

  /** The port of the live master that serves `slot`. */
  async ownerOf(slot: number): Promise<number> {
    const owner = (await this.nodes()).find(
      (n) => n.master && !n.failed && n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (owner === undefined) throw new Error(`no live master serves slot ${slot}`);
    return owner.port;
  }

  private serverOn(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`no redis-server of this cluster on port ${port}`);
    return server;
  }

  /** SIGKILLs the master that serves `slot` (it stays down); resolves with its port. */
  async killMasterOf(slot: number): Promise<number> {
    const port = await this.ownerOf(slot);
    await this.serverOn(port).stop('SIGKILL');
    return port;
  }

  /** Runs CLUSTER FAILOVER on the replica of the master that serves `slot`; resolves with the old master's port. */
  async failoverManually(slot: number): Promise<number> {
    const nodes = await this.nodes();
    const port = await this.ownerOf(slot);
    const master = nodes.find((n) => n.port === port);
    const replica = nodes.find((n) => !n.master && !n.failed && n.masterId === master?.id);
    if (replica === undefined) throw new Error(`the master on ${port} has no live replica`);
    await this.ask(replica.port, (r) => r.call('CLUSTER', 'FAILOVER'));
    return port;
  }

  /** Resolves once a master other than `oldPort` serves `slot` and the cluster is ok again; returns its port. */
  async waitForOwner(slot: number, oldPort: number, timeoutMs = 30_000): Promise<number> {
    let port = oldPort;
    await this.waitUntil(
      `a new master for slot ${slot}`,
      async () => {
        port = await this.ownerOf(slot);
        return port !== oldPort && (await this.stateOk(port));
      },
      timeoutMs,
    );
    return port;
  }

  /** Resolves once every live master has its live replicas online (replication caught up once). */
  async waitForReplicasOnline(timeoutMs = 30_000): Promise<void> {
    await this.waitUntil(
      'every replica online',
      async () => {
        const nodes = (await this.nodes()).filter((n) => !n.failed);
        for (const m of nodes.filter((n) => n.master)) {
          const expected = nodes.filter((n) => n.masterId === m.id).length;
          const info = await this.ask(m.port, (r) => r.info('replication'));
          if ([...info.matchAll(/^slave\d+:.*state=online/gm)].length < expected) return false;
        }
        return true;
      },
      timeoutMs,
    );
  }

  private async waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`Redis Cluster: no ${what} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }
}
