import fs from 'node:fs';
import os from 'node:os';

import { Redis } from 'ioredis';

import { RedisServer } from '../../test/support/redis';
import type { LoadResult } from '../load-generator';
import { progress, stop } from '../processes';
import { machineCoresBusy, machineCpu, procStat } from '../procstat';
import type { ScenarioResult } from '../report';
import { type IntakeBenchOptions, runLoad, startProxyProcess } from './intake';

/** The proxy's processes: the primary and, with server.workers > 1, the workers it forked. */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    // gone already: counted as no children
  }
  return [pid, ...children];
}

function cpuOf(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + procStat(pid).cpuSeconds, 0);
}

interface WorkersRun {
  readonly load: LoadResult;
  readonly proxyCpu: number;
  readonly redisCpu: number;
  readonly processes: number;
  /** Cores the whole machine had busy over the load (every process, ours or not). */
  readonly machineBusy: number;
}

async function redisPid(redis: RedisServer): Promise<number> {
  const client = new Redis(redis.url);
  try {
    return Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

/** One load run against `apm-sidecar proxy` with server.workers = `workers`, on its own redis-server. */
async function runWith(options: IntakeBenchOptions, workers: number): Promise<WorkersRun> {
  progress(`intake, 2 workers: apm-sidecar proxy with server.workers ${workers}, ${options.seconds}s`);
  const redis = await RedisServer.start();
  try {
    const proxy = await startProxyProcess(options, redis.url, { APM_SIDECAR_SERVER_WORKERS: String(workers) });
    const pids = processTree(proxy.child.pid ?? 0);
    const redisProcess = await redisPid(redis);
    const before = { proxy: cpuOf(pids), redis: cpuOf([redisProcess]), machine: machineCpu() };
    const t0 = process.hrtime.bigint();
    const load = await runLoad(proxy.url, options);
    const after = { proxy: cpuOf(pids), redis: cpuOf([redisProcess]), machine: machineCpu() };
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    await stop(proxy.child);
    return {
      load,
      proxyCpu: after.proxy - before.proxy,
      redisCpu: after.redis - before.redis,
      processes: pids.length,
      machineBusy: machineCoresBusy(before.machine, after.machine, wall).busy,
    };
  } finally {
    await redis.destroy();
  }
}

/**
 * Scenario "intake, 2 workers": the intake scenario's load against the proxy with server.workers 1 and then 2 in
 * the same run, each on a fresh redis-server; the ratio is events/s with 2 workers over 1. The load generator and
 * Redis share the same cores, so on a 2-core machine the second worker competes with them rather than getting a
 * core of its own.
 */
export async function intakeWorkersScenario(options: IntakeBenchOptions): Promise<ScenarioResult> {
  const one = await runWith(options, 1);
  const two = await runWith(options, 2);
  const rate = (r: WorkersRun): number => r.load.eventsAccepted / r.load.seconds;
  const per100k = (cpu: number, r: WorkersRun): number => (cpu / Math.max(r.load.eventsAccepted, 1)) * 100_000;
  const ratio = rate(one) > 0 ? rate(two) / rate(one) : 0;
  return {
    scenario: 'intake, 2 workers',
    metric: 'events/s accepted, server.workers 2 (baseline: 1, same run)',
    ours: rate(two),
    baseline: rate(one),
    ratio,
    goal: 'ratio >= 1',
    met: ratio >= 1,
    details: {
      'events/s, 1 worker': rate(one),
      'events/s, 2 workers': rate(two),
      'proxy CPU s per 100k events, 1 worker': per100k(one.proxyCpu, one),
      'proxy CPU s per 100k events, 2 workers (primary + workers)': per100k(two.proxyCpu, two),
      'proxy cores busy, 1 worker': one.proxyCpu / one.load.seconds,
      'proxy cores busy, 2 workers': two.proxyCpu / two.load.seconds,
      'redis CPU s per 100k events, 1 worker': per100k(one.redisCpu, one),
      'redis CPU s per 100k events, 2 workers': per100k(two.redisCpu, two),
      'p99 ms, 1 worker': one.load.latencyMs.p99,
      'p99 ms, 2 workers': two.load.latencyMs.p99,
      'statuses, 1 worker': JSON.stringify(one.load.byStatus),
      'statuses, 2 workers': JSON.stringify(two.load.byStatus),
      'proxy processes, 2 workers': two.processes,
      'load generator cores busy, 1 worker': one.load.cpuSeconds / Math.max(one.load.seconds, 0.001),
      'load generator cores busy, 2 workers': two.load.cpuSeconds / Math.max(two.load.seconds, 0.001),
      'redis cores busy, 1 worker': one.redisCpu / Math.max(one.load.seconds, 0.001),
      'redis cores busy, 2 workers': two.redisCpu / Math.max(two.load.seconds, 0.001),
      'machine cores busy, all processes, 1 worker': one.machineBusy,
      'machine cores busy, all processes, 2 workers': two.machineBusy,
      'machine cores': os.cpus().length,
      // Other work on the machine takes cores from both runs alike; this says how much there was.
      'machine load average (1 min) at the end': os.loadavg()[0] ?? 0,
    },
  };
}
