import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { mergeDeep } from '../../integration/forwarder/support';
import { type LogLine, parseLogLine } from '../../support/log-line';
import { freePort, waitForPort } from '../../support/ports';

/** The built CLI; `npm test` builds it before jest runs. */
export const cliPath = path.resolve(__dirname, '../../../dist/cli/apm-sidecar.js');

export function assertBuilt(): void {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
}

/**
 * One spawned `apm-sidecar <command>` with its config in a temp JSON file, its JSON log lines collected, and
 * its admin port known. kill() and stop() wait for the exit.
 */
export class CliProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly adminPort: number,
    private readonly dir: string,
  ) {
    let pending = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        if (line.trim() === '') continue;
        this.lines.push(parseLogLine(line));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** `nodeArgs`: options for node itself, before the CLI (a bench's probe). */
  static async start(
    name: string,
    command: string,
    config: Record<string, unknown>,
    nodeArgs: readonly string[] = [],
  ): Promise<CliProcess> {
    assertBuilt();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `apm-sidecar-${name}-`));
    const adminPort = await freePort();
    const file = path.join(dir, 'config.json');
    fs.writeFileSync(file, JSON.stringify({ ...config, admin: { host: `127.0.0.1:${adminPort}` } }));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
    const child = spawn(process.execPath, [...nodeArgs, cliPath, command, '--config', file], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new CliProcess(name, child, adminPort, dir);
    await Promise.race([
      waitForPort(adminPort, 30_000),
      proc.exited.then(({ code }) => {
        throw new Error(`${name} exited with ${String(code)} before listening: ${proc.stderr.join('')}`);
      }),
    ]);
    return proc;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async admin(pathName: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${pathName}`);
    return { status: res.status, body: await res.text() };
  }

  /** The value of a Prometheus sample, e.g. metric('apm_sidecar_documents_total', 'outcome="indexed"'). */
  async metric(name: string, label = ''): Promise<number> {
    const { body } = await this.admin('/metrics');
    const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(label));
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }

  async kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** Kills (SIGKILL) if still running and removes the temp dir; for afterEach/afterAll. */
  async destroy(): Promise<void> {
    await this.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  errors(): LogLine[] {
    return this.lines.filter((l) => l.level === 'error' || l.level === 'fatal');
  }
}

/** The config of a spawned forwarder writing to the stand-in as `writer`. */
export function forwarderProcessConfig(
  redisUrl: string,
  queueName: string,
  es: { url: string; caFile: string; username: string; password: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return mergeDeep(
    {
      queue: { redis: { url: redisUrl }, name: queueName },
      output: {
        elasticsearch: {
          hosts: [es.url],
          username: es.username,
          password: es.password,
          ssl: { certificate_authorities: [es.caFile] },
          flush_interval: '100ms',
          backoff: { init: '50ms', max: '1s' },
          timeout: '10s',
        },
      },
      server: { shutdown_timeout: '10s' },
      forwarder: { concurrency: 16 },
      log: { level: 'info' },
    },
    extra,
  );
}
