import fs from 'node:fs';

import { Redis } from 'ioredis';

/** Calls and microseconds per Redis command (INFO commandstats), e.g. { evalsha: { calls: 6000, usec: 480000 } }. */
export type CommandStats = Record<string, { readonly calls: number; readonly usec: number }>;

export function parseCommandStats(info: string): CommandStats {
  const out: Record<string, { calls: number; usec: number }> = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    out[(m[1] ?? '').replace('|', ' ')] = { calls: Number(m[2]), usec: Number(m[3]) };
  }
  return out;
}

/**
 * Reads INFO commandstats over one connection (its ready check is counted before the first reading), so that
 * between two readings the bench itself sent exactly one INFO: the earlier reading's.
 */
export class CommandStatsReader {
  private readonly client: Redis;

  constructor(url: string) {
    this.client = new Redis(url);
  }

  async read(): Promise<CommandStats> {
    return parseCommandStats(await this.client.info('commandstats'));
  }

  close(): void {
    this.client.disconnect();
  }
}

/** What `after` gained over `before` (two readings of one CommandStatsReader), less the reader's own INFO. */
export function commandsBetween(before: CommandStats, after: CommandStats): CommandStats {
  const out: Record<string, { calls: number; usec: number }> = {};
  for (const [name, now] of Object.entries(after)) {
    const was = before[name] ?? { calls: 0, usec: 0 };
    const ownCalls = name === 'info' ? 1 : 0;
    const calls = now.calls - was.calls - ownCalls;
    if (calls > 0) out[name] = { calls, usec: Math.max(0, now.usec - was.usec) };
  }
  return out;
}

/** Voluntary + involuntary context switches of each thread of a process, by thread id, with the thread's name. */
export function threadSwitches(pid: number): Map<string, { readonly name: string; readonly switches: number }> {
  const out = new Map<string, { name: string; switches: number }>();
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const involuntary = Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(tid, { name: tid === String(pid) ? 'main' : name, switches: voluntary + involuntary });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * Wake-ups per second over a window, from two threadSwitches readings: the main thread (its event loop) and the
 * others together (libuv pool, V8 platform workers, Redis' bio threads).
 */
export function wakeupsPerSecond(
  before: ReturnType<typeof threadSwitches>,
  after: ReturnType<typeof threadSwitches>,
  seconds: number,
): { readonly main: number; readonly others: number } {
  let main = 0;
  let others = 0;
  for (const [tid, now] of after) {
    const gained = now.switches - (before.get(tid)?.switches ?? 0);
    if (now.name === 'main') main += gained;
    else others += gained;
  }
  return { main: main / seconds, others: others / seconds };
}

/** Where a process's resident memory is now (/proc/<pid>/smaps_rollup and status), in bytes. */
export interface ResidentSplit {
  readonly peak: number;
  readonly rss: number;
  readonly anonymous: number;
  readonly file: number;
}

export function residentSplit(pid: number): ResidentSplit {
  const kb = (text: string, key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return {
    peak: kb(status, 'VmHWM'),
    rss: kb(status, 'VmRSS'),
    anonymous: kb(status, 'RssAnon'),
    file: kb(status, 'RssFile') + kb(status, 'RssShmem'),
  };
}

/** The V8 heap and external memory a process exports on its admin /metrics (prom-client's default gauges). */
export async function heapGauges(
  adminPort: number,
): Promise<{ readonly heapUsed: number; readonly heapTotal: number; readonly external: number } | null> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
    const gauge = (name: string): number =>
      Number(new RegExp(`^apm_sidecar_${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
    return {
      heapUsed: gauge('nodejs_heap_size_used_bytes'),
      heapTotal: gauge('nodejs_heap_size_total_bytes'),
      external: gauge('nodejs_external_memory_bytes'),
    };
  } catch {
    return null;
  }
}
