import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Redis } from 'ioredis';

import { freePort, waitForPort } from './ports';
import { RedisServer } from './redis';

/**
 * A real Sentinel set on loopback for one test file: a master, two replicas (real redis-servers, AOF on,
 * noeviction) and three `redis-server --sentinel` processes with a quorum of 2 and a 1 s down-after, all on free
 * ports. `killMaster()` SIGKILLs the current master; `waitForFailover()` resolves once the sentinels name a new
 * master that has `replicas` replicas attached again.
 */
export const sentinelMasterName = 'apm-queue';

export class SentinelSet {
  private readonly sentinelChildren: ChildProcess[] = [];
  readonly sentinelPorts: number[] = [];
  private readonly dir: string;

  private constructor(readonly servers: RedisServer[]) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-sentinel-'));
  }

  static async start(options: { readonly args?: readonly string[] } = {}): Promise<SentinelSet> {
    const args = options.args ?? [];
    const master = await RedisServer.start({ args });
    const replicas = await Promise.all(
      [0, 1].map(() => RedisServer.start({ args: [...args, '--replicaof', '127.0.0.1', String(master.port)] })),
    );
    const set = new SentinelSet([master, ...replicas]);
    try {
      await set.waitForReplicas(master.port, 2);
      for (let i = 0; i < 3; i++) await set.spawnSentinel(master.port);
      await set.waitUntil('the sentinels know each other and both replicas', async () => {
        for (const port of set.sentinelPorts) {
          const known = await set.askSentinel(port, async (s) => ({
            replicas: ((await s.call('SENTINEL', 'REPLICAS', sentinelMasterName)) as unknown[]).length,
            sentinels: ((await s.call('SENTINEL', 'SENTINELS', sentinelMasterName)) as unknown[]).length,
          }));
          if (known.replicas < 2 || known.sentinels < 2) return false;
        }
        return true;
      });
    } catch (err) {
      await set.destroy();
      throw err;
    }
    return set;
  }

  /** The `queue.redis` config section that reaches this set through its sentinels. */
  get queueRedis(): Record<string, unknown> {
    return {
      url: null,
      sentinel: { nodes: this.sentinelPorts.map((p) => `127.0.0.1:${p}`), master_name: sentinelMasterName },
    };
  }

  /** A client of the current master, found through the sentinels as the product finds it. */
  connect(): Redis {
    return new Redis({
      sentinels: this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      name: sentinelMasterName,
      maxRetriesPerRequest: null,
    });
  }

  private async spawnSentinel(masterPort: number): Promise<void> {
    const port = await freePort();
    const file = path.join(this.dir, `sentinel-${port}.conf`);
    fs.writeFileSync(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.dir}`,
        `sentinel monitor ${sentinelMasterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${sentinelMasterName} 1000`,
        `sentinel failover-timeout ${sentinelMasterName} 10000`,
        `sentinel parallel-syncs ${sentinelMasterName} 2`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'ignore', 'inherit'] });
    this.sentinelChildren.push(child);
    this.sentinelPorts.push(port);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (err) => reject(new Error(`cannot run redis-server --sentinel: ${err.message}`)));
      waitForPort(port).then(resolve, reject);
    });
  }

  private async askSentinel<T>(port: number, ask: (sentinel: Redis) => Promise<T>): Promise<T> {
    const sentinel = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    sentinel.on('error', () => undefined);
    try {
      await sentinel.connect();
      return await ask(sentinel);
    } finally {
      sentinel.disconnect();
    }
  }

  /** The master's port as the first sentinel that answers names it. */
  async masterPort(): Promise<number> {
    for (const port of this.sentinelPorts) {
      try {
        const reply = await this.askSentinel(port, (s) =>
          s.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', sentinelMasterName),
        );
        if (Array.isArray(reply) && typeof reply[1] === 'string') return Number(reply[1]);
      } catch {
        // the next sentinel
      }
    }
    throw new Error('no sentinel answers');
  }

  private serverOn(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (server === undefined) throw new Error(`no redis-server of this set on port ${port}`);
    return server;
  }

  /** SIGKILLs the current master (it stays down); resolves with its port. */
  async killMaster(): Promise<number> {
    const port = await this.masterPort();
    await this.serverOn(port).stop('SIGKILL');
    return port;
  }

  /** Resolves once the sentinels name a master other than `oldPort` that has `replicas` replicas in sync. */
  async waitForFailover(oldPort: number, replicas: number, timeoutMs = 30_000): Promise<number> {
    let port = oldPort;
    await this.waitUntil(
      `a new master with ${replicas} replicas`,
      async () => {
        port = await this.masterPort();
        return port !== oldPort && (await this.replicasOf(port)) >= replicas;
      },
      timeoutMs,
    );
    return port;
  }

  private async replicasOf(port: number): Promise<number> {
    const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      const info = await redis.info('replication');
      if (!/^role:master/m.test(info)) return -1;
      return [...info.matchAll(/^slave\d+:.*state=online/gm)].length;
    } catch {
      return -1;
    } finally {
      redis.disconnect();
    }
  }

  private async waitForReplicas(port: number, replicas: number): Promise<void> {
    await this.waitUntil(`${replicas} replicas in sync`, async () => (await this.replicasOf(port)) >= replicas);
  }

  private async waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`Sentinel set: no ${what} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.sentinelChildren.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    await Promise.all(this.servers.map((s) => s.destroy()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
