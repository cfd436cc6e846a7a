import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import { createCertificateAuthority, issueCertificate } from '../tls/local-ca';
import { productNodeFlags } from './node-flags';

export const repoRoot = path.join(__dirname, '..');
export const builtCli = path.join(repoRoot, 'dist', 'cli', 'apm-sidecar.js');

export interface BenchPki {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function makePki(dir: string): BenchPki {
  const ca = createCertificateAuthority('apm-sidecar bench CA');
  const server = issueCertificate(ca, { commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] });
  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, content);
    return file;
  };
  return {
    caFile: write('ca.crt', ca.cert),
    certFile: write('server.crt', server.cert),
    keyFile: write('server.key', server.key),
  };
}

/**
 * Runs a TypeScript script of bench/ or test/ in its own Node process. tsx is loaded with --import (not its CLI,
 * which forks a second process) so that the child's pid is the process doing the work, for CPU accounting.
 */
export function spawnTs(script: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, script), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    cwd: repoRoot,
  });
}

/**
 * Runs the built apm-sidecar CLI with the Node flags the product starts that subcommand with (bench/node-flags.ts),
 * then `nodeArgs` (the profiled pass gives --cpu-prof here; a flag given again there wins). With BENCH_CPU_PROF_DIR
 * set, every process writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
 */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): ChildProcess {
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profileDir === undefined || profileDir === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  const product = productNodeFlags(args[0] ?? '');
  return spawn(process.execPath, [...product, ...profile, ...nodeArgs, builtCli, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves with the first stdout line of `child` that parses as JSON and satisfies `accept`. */
export async function firstJsonLine<T>(
  child: ChildProcess,
  accept: (v: unknown) => v is T,
  timeoutMs = 60_000,
): Promise<T> {
  const stdout = child.stdout;
  if (stdout === null) throw new Error('child has no stdout pipe');
  const lines = readline.createInterface({ input: stdout });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no JSON line from child in time')), timeoutMs);
    child.once('exit', (code) => reject(new Error(`child exited (${String(code)}) before printing JSON`)));
    lines.on('line', (line) => {
      try {
        const value: unknown = JSON.parse(line);
        if (accept(value)) {
          clearTimeout(timer);
          resolve(value);
        }
      } catch {
        // not JSON: log lines of the child
      }
    });
  });
}

export async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

export function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
