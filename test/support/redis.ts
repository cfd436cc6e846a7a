import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitForPort } from './ports';

export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. ['--appendfsync', 'always']. */
  readonly args?: readonly string[];
  /** AOF on (default true: the queue's durability depends on it). */
  readonly appendonly?: boolean;
  readonly maxmemoryPolicy?: string;
}

/**
 * A real redis-server on a free port (never 6379) with its own data directory, for one test file.
 * stop() is idempotent; restart() keeps the data directory and port, so AOF recovery is exercised for real.
 */
export class RedisServer {
  readonly dir: string;
  port = 0;
  private child: ChildProcess | undefined;

  private constructor(private options: RedisServerOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-redis-'));
  }

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(options);
    server.port = await freePort();
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
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.appendonly === false ? 'no' : 'yes',
      '--maxmemory-policy',
      this.options.maxmemoryPolicy ?? 'noeviction',
      ...(this.options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', (err) =>
        reject(new Error(`cannot run redis-server (apt-get install -y redis-server): ${err.message}`)),
      );
      waitForPort(this.port).then(resolve, reject);
    });
  }

  /** Stops with SIGTERM (Redis flushes AOF) and waits for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /**
   * Stops (SIGTERM by default; SIGKILL to crash it) and starts again on the same port and data directory, with
   * `changes` applied to the options from then on (e.g. `{ appendonly: false }`: an operator's weaker config).
   */
  async restart(signal: NodeJS.Signals = 'SIGTERM', changes: RedisServerOptions = {}): Promise<void> {
    await this.stop(signal);
    this.options = { ...this.options, ...changes };
    await this.spawn();
  }

  /** The pid of the running redis-server (for a CPU hog pinned beside it, or a signal). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Stops the server and removes its data directory. */
  async destroy(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
