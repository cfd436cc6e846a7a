import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Agent, request } from 'undici';

import { testPki } from '../certs';
import { freePort } from '../ports';
import type { Counters, FaultPlan } from './faults';

const mainFile = path.join(__dirname, 'main.ts');

/**
 * The stand-in as a separate process (test/support/es-standin/main.ts), for tests that SIGKILL it, leave the
 * port closed (connection refused), and restart it keeping or losing its documents. Same port across restarts.
 */
export class StandinProcess {
  readonly dir: string;
  readonly dataFile: string;
  readonly caFile: string;
  readonly elasticPassword = 'changeme';
  port = 0;
  private child: ChildProcess | undefined;
  private readonly dispatcher: Agent;

  private constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-es-standin-'));
    this.dataFile = path.join(this.dir, 'state.json');
    this.caFile = testPki().caFile;
    this.dispatcher = new Agent({ connect: { ca: fs.readFileSync(this.caFile, 'utf8') } });
  }

  static async start(): Promise<StandinProcess> {
    const standin = new StandinProcess();
    standin.port = await freePort();
    await standin.spawn();
    return standin;
  }

  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  private async spawn(): Promise<void> {
    const pki = testPki();
    const args = [
      '--import',
      'tsx',
      mainFile,
      '--port',
      String(this.port),
      '--data',
      this.dataFile,
      '--cert',
      pki.serverCertFile,
      '--key',
      pki.serverKeyFile,
      '--ca',
      pki.caFile,
      '--password',
      this.elasticPassword,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('es-standin process did not start within 30 s')), 30_000);
      let out = '';
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (out.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`es-standin process exited with ${String(code)} before listening`));
      });
    });
  }

  /** Kills the process (SIGKILL by default): the port refuses connections until restart(). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  async restart(options: { keepDocuments: boolean }): Promise<void> {
    await this.kill();
    if (!options.keepDocuments) fs.rmSync(this.dataFile, { force: true });
    await this.spawn();
  }

  private async control(method: 'GET' | 'PUT' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const res = await request(`${this.url}/_standin/${route}`, {
      method,
      dispatcher: this.dispatcher,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const parsed: unknown = await res.body.json();
    if (res.statusCode !== 200) throw new Error(`es-standin control ${route}: ${JSON.stringify(parsed)}`);
    return parsed;
  }

  async setFaults(plan: FaultPlan): Promise<void> {
    await this.control('PUT', 'faults', plan);
  }

  /** Counters since start (or the last resetCounters); they restart from zero with the process. */
  async counters(): Promise<Counters> {
    const raw = await this.control('GET', 'counters');
    return parseCounters(raw);
  }

  async resetCounters(): Promise<void> {
    await this.control('POST', 'counters/reset');
  }

  async documents(index = '*'): Promise<Array<{ index: string; id: string; source: Record<string, unknown> }>> {
    const raw = await this.control('GET', `documents?index=${encodeURIComponent(index)}`);
    const list =
      typeof raw === 'object' && raw !== null && 'documents' in raw && Array.isArray(raw.documents)
        ? (raw.documents as unknown[])
        : [];
    return list.flatMap((d) => {
      if (typeof d !== 'object' || d === null || !('index' in d) || !('id' in d) || !('source' in d)) return [];
      const { index: i, id, source } = d;
      if (typeof i !== 'string' || typeof id !== 'string' || typeof source !== 'object' || source === null) return [];
      return [{ index: i, id, source: { ...source } }];
    });
  }

  async close(): Promise<void> {
    await this.kill('SIGTERM');
    await this.dispatcher.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function numberRecord(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) if (typeof v === 'number') out[k] = v;
  return out;
}

function parseCounters(raw: unknown): Counters {
  const get = (key: string): unknown =>
    typeof raw === 'object' && raw !== null ? Object.entries(raw).find(([k]) => k === key)?.[1] : undefined;
  const num = (key: string): number => {
    const v = get(key);
    return typeof v === 'number' ? v : 0;
  };
  return {
    requests: num('requests'),
    bulkRequests: num('bulkRequests'),
    itemsByStatus: numberRecord(get('itemsByStatus')),
    faultsApplied: numberRecord(get('faultsApplied')),
    documentsStored: num('documentsStored'),
    bulkInFlightPeak: num('bulkInFlightPeak'),
  };
}
