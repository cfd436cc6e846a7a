import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { testPki } from './certs';
import { type LogLine, parseLogLines } from './log-line';
import { testToken } from './proxy-harness';

export const cliPath = path.resolve(__dirname, '../../dist/cli/apm-sidecar.js');

/** The built CLI (npm test builds it first; run `npm run build` before running these suites alone). */
export function assertBuilt(): void {
  if (!fs.existsSync(cliPath)) throw new Error(`${cliPath} is missing: run \`npm run build\` first`);
}

/** Environment for a child: PATH and HOME only, plus what the test sets, so the developer's APM_SIDECAR_* never leak in. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

/** A spawned process whose output the test can wait on. */
export class SpawnedProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (c: Buffer) => (this.stdout += c.toString('utf8')));
    child.stderr?.on('data', (c: Buffer) => (this.stderr += c.toString('utf8')));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Waits until stdout matches, failing with the output so far when the process exits or the deadline passes. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = pattern.exec(this.stdout);
      if (m !== null) return m;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `no ${String(pattern)} in the output (exit ${String(this.child.exitCode)}):\n${this.stdout}\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * The exit, or a failure with the output so far when the process still runs after `boundMs` (a generous
   * bound: it proves the process ends, it does not measure how fast). The process is then killed.
   */
  async exitWithin(boundMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), boundMs)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome !== 'late') return outcome;
    this.child.kill('SIGKILL');
    throw new Error(`still running ${boundMs} ms later:\n${this.stdout}\n${this.stderr}`);
  }

  /** The ECS JSON log lines of stdout. */
  logLines(): LogLine[] {
    return parseLogLines(this.stdout).filter((l) => l.level !== 'unknown');
  }

  /** Stops the process if it still runs (SIGKILL after a grace period) and waits for it. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export function spawnCli(args: readonly string[], env: Record<string, string>, cwd?: string): SpawnedProcess {
  assertBuilt();
  return new SpawnedProcess(
    spawn(process.execPath, [cliPath, ...args], { env: childEnv(env), cwd, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

/**
 * The environment of a spawned `apm-sidecar proxy` with TLS from the test CA and the harness token on free ports;
 * `extra` adds or overrides variables.
 */
export function proxyEnv(redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  const pki = testPki();
  return {
    APM_SIDECAR_HOST: '127.0.0.1:0',
    APM_SIDECAR_ADMIN_HOST: '127.0.0.1:0',
    APM_SIDECAR_REDIS_URL: redisUrl,
    APM_SIDECAR_SECRET_TOKEN: testToken,
    APM_SIDECAR_SSL_CERTIFICATE: pki.serverCertFile,
    APM_SIDECAR_SSL_KEY: pki.serverKeyFile,
    ...extra,
  };
}
