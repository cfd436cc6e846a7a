import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { Redis } from 'ioredis';

import { SidecarError } from '../../core/errors';
import { commandLineOf, dataDirInUse, isApmSidecar, parentOf } from './data-dir-lock';

/** A TCP port free on 127.0.0.1 right now. */
export async function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedisOptions {
  /** Its data and AOF live here. */
  readonly dir: string;
  /** 0: a free port. */
  readonly port: number;
  /** appendfsync always, for queue.durability fsync. */
  readonly fsyncAlways: boolean;
}

const pidFileName = 'redis-server.pid';

/**
 * Redis' background task rate (`hz`) in the Redis we run (`start`, deploy/docker-compose.yml) and the benchmark's.
 * At its default 10 an idle redis-server alone costs about 0.15% of a core; at 1 about 0.04%. What runs less
 * often: expiring keys nobody reads (BullMQ's lock keys; a read still expires them at once), closing timed-out
 * clients (none here: `timeout` 0), a blocked command's timeout (a BZPOPMIN returns up to a second late; a new
 * job still wakes it at once) and, under appendfsync everysec, the fsync after the last write of a burst (up to
 * about 2 s instead of 1 s after it; a write is on disk with every later fsync as before). dynamic-hz still
 * raises it when many clients connect.
 */
export const redisHz = 1;

/**
 * A redis-server left running on this data directory by an earlier `start` that was killed with SIGKILL (which
 * no exit handler survives): two servers must never append to one AOF, so it is stopped first (SIGTERM lets it
 * flush). Only a redis-server is touched, and only when its owner is gone: one whose parent is a live
 * apm-sidecar belongs to a running start, and this start refuses instead of killing it.
 */
async function stopLeftover(pidFile: string, dataDir: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  const isRedis = (): boolean => commandLineOf(pid)?.startsWith('redis-server') === true;
  if (!Number.isInteger(pid) || pid <= 1 || !isRedis()) return;
  const owner = parentOf(pid);
  if (owner !== undefined && owner !== process.pid && isApmSidecar(owner)) throw dataDirInUse(dataDir, owner);
  process.kill(pid, 'SIGTERM');
  for (let waited = 0; isRedis() && waited < 10_000; waited += 100) await new Promise((r) => setTimeout(r, 100));
  if (isRedis()) process.kill(pid, 'SIGKILL');
}

/**
 * The redis-server `start` runs for a first try: from PATH, bound to 127.0.0.1, AOF on, noeviction (the queue
 * refuses anything else), data kept in path.data/redis so queued events survive a restart. Killed when start
 * exits, however it exits.
 */
export class PrivateRedisServer {
  private child: ChildProcess | undefined;
  private readonly killOnExit = (): void => {
    this.child?.kill('SIGKILL');
  };

  private constructor(
    readonly port: number,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions): Promise<PrivateRedisServer> {
    fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    await stopLeftover(path.join(options.dir, pidFileName), path.dirname(path.resolve(options.dir)));
    const server = new PrivateRedisServer(options.port === 0 ? await freeLocalPort() : options.port, options);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async spawn(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      path.resolve(this.options.dir),
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      this.options.fsyncAlways ? 'always' : 'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--hz',
      String(redisHz),
      '--logfile',
      path.resolve(this.options.dir, 'redis-server.log'),
      '--daemonize',
      'no',
      '--pidfile',
      path.resolve(this.options.dir, pidFileName),
    ];
    // Its own process group: a Ctrl-C or a signal to start's group reaches start, which stops Redis last, after
    // the proxy and forwarder drained into it.
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.child = child;
    process.on('exit', this.killOnExit);
    let gone = false;
    const failed = new Promise<never>((_, reject) => {
      child.once('error', (err) => reject(this.failure(`cannot run redis-server from PATH (${err.message})`)));
      child.once('exit', (code) =>
        reject(
          this.failure(
            `redis-server exited with status ${String(code)}; see ${path.join(this.options.dir, 'redis-server.log')}`,
          ),
        ),
      );
    });
    failed.catch(() => {
      gone = true;
    });
    await Promise.race([this.waitUntilReady(() => gone), failed]);
  }

  private failure(message: string): SidecarError {
    return new SidecarError('SIDECAR_ERR_QUEUE_UNAVAILABLE', message, {
      remediation:
        'install Redis (apt-get install redis-server) or set queue.redis.url (APM_SIDECAR_REDIS_URL) to a Redis of yours',
    });
  }

  /** Polls until PING answers; stops polling once `gone` (the child could not run or exited). */
  private async waitUntilReady(gone: () => boolean): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!gone()) {
      const client = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        // While it replays a large AOF, Redis answers LOADING; it is ready once PING succeeds.
        await client.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline)
          throw this.failure(
            `redis-server did not become ready on port ${this.port}: ${err instanceof Error ? err.message : String(err)}`,
          );
      } finally {
        client.disconnect();
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM lets Redis flush its AOF; waits for the exit. Idempotent. */
  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    process.off('exit', this.killOnExit);
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }
}
