import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';

import { Redis } from 'ioredis';

import { RedisServer } from '../../test/support/redis';
import { progress, stop } from '../processes';
import { procStat } from '../procstat';
import type { ScenarioResult } from '../report';
import { redisPid, type Sink, startForwarder, startSink, waitIndexed } from './end-to-end';
import { type IntakeBenchOptions, runLoad, startProxyProcess } from './intake';

const run = promisify(execFile);

export interface ScaleOptions extends IntakeBenchOptions {
  /** Agent requests sent in each layout (each of ~40 events), spread over its proxies. */
  readonly totalRequests: number;
}

interface Layout {
  readonly proxies: number;
  readonly masters: number;
  readonly forwarders: number;
}

interface LayoutFigures {
  readonly events: number;
  readonly seconds: number;
  /** CPU seconds of each role over the run, summed over its processes. */
  readonly cpu: { readonly proxy: number; readonly redis: number; readonly forwarder: number };
}

/** `masters` redis-servers as a Redis Cluster without replicas (the slots split evenly), or one plain Redis. */
async function startRedis(masters: number): Promise<{ servers: RedisServer[]; env: Record<string, string> }> {
  if (masters === 1) return { servers: [await RedisServer.start()], env: {} };
  const servers = await Promise.all(
    Array.from({ length: masters }, () => RedisServer.start({ args: ['--cluster-enabled', 'yes'] })),
  );
  const nodes = servers.map((s) => `127.0.0.1:${s.port}`);
  await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-yes']);
  for (const s of servers) {
    const client = new Redis(s.url);
    try {
      for (let i = 0; !/cluster_state:ok/.test(await client.cluster('INFO')); i++) {
        if (i > 300) throw new Error(`Redis Cluster on ${s.port} not ok after 30 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      client.disconnect();
    }
  }
  return {
    servers,
    env: { APM_SIDECAR_REDIS_CLUSTER_NODES: nodes.join(','), APM_SIDECAR_QUEUE_PARTITIONS: String(masters) },
  };
}

async function runLayout(options: ScaleOptions, sink: Sink, layout: Layout): Promise<LayoutFigures> {
  const { servers, env } = await startRedis(layout.masters);
  const procs: ChildProcess[] = [];
  try {
    const queue = `scale-${randomUUID().slice(0, 8)}`;
    const url = servers[0]?.url ?? '';
    const withEnv = { ...options, env: { APM_SIDECAR_QUEUE: queue, ...env } };
    const proxies = [];
    for (let i = 0; i < layout.proxies; i++) proxies.push(await startProxyProcess(options, url, withEnv.env));
    procs.push(...proxies.map((p) => p.child));
    const forwarders: ChildProcess[] = [];
    for (let i = 0; i < layout.forwarders; i++)
      forwarders.push((await startForwarder(sink, withEnv, url, queue)).child);
    procs.push(...forwarders);
    const pids = {
      proxy: proxies.map((p) => p.child.pid ?? 0),
      redis: await Promise.all(servers.map((s) => redisPid(s.url))),
      forwarder: forwarders.map((f) => f.pid ?? 0),
    };
    const cpuOf = (list: number[]): number => list.reduce((n, pid) => n + procStat(pid).cpuSeconds, 0);
    await sink.reset();
    const before = { proxy: cpuOf(pids.proxy), redis: cpuOf(pids.redis), forwarder: cpuOf(pids.forwarder) };
    const t0 = process.hrtime.bigint();
    const share = Math.ceil(options.totalRequests / layout.proxies);
    const connections = Math.max(1, Math.floor(options.connections / layout.proxies));
    const loads = await Promise.all(
      proxies.map((p) => runLoad(p.url, { ...options, seconds: 600, connections }, { maxRequests: share })),
    );
    const events = loads.reduce((n, l) => n + l.eventsAccepted, 0);
    await waitIndexed(sink, events, 600_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return {
      events,
      seconds,
      cpu: {
        proxy: cpuOf(pids.proxy) - before.proxy,
        redis: cpuOf(pids.redis) - before.redis,
        forwarder: cpuOf(pids.forwarder) - before.forwarder,
      },
    };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await Promise.all(servers.map((s) => s.destroy()));
  }
}

/**
 * Scenario "scale": 2 proxies + 3 Redis Cluster masters (queue.partitions 3) + 2 forwarders against 1 + 1 + 1 on
 * the same sink, the same requests. On a 2-core machine every process shares the same two cores, so the bigger
 * layout shows the cost of spreading out (more processes, cluster routing: CPU per event), not a real gain (its
 * events/s can still be higher where other load shares the cores, from taking more of them); what it gives is each
 * role's CPU per event when spread, from which the capacity of one node per role is projected (events per CPU
 * second of that role, i.e. per core it is given).
 */
export async function scaleScenario(options: ScaleOptions): Promise<ScenarioResult> {
  const sink = await startSink(options);
  try {
    const small: Layout = { proxies: 1, masters: 1, forwarders: 1 };
    const big: Layout = { proxies: 2, masters: 3, forwarders: 2 };
    progress(`scale: 1 proxy + 1 Redis + 1 forwarder, ${options.totalRequests} requests`);
    const one = await runLayout(options, sink, small);
    progress(`scale: 2 proxies + 3 cluster masters (3 partitions) + 2 forwarders, ${options.totalRequests} requests`);
    const spread = await runLayout(options, sink, big);
    const per100k = (cpu: number, f: LayoutFigures): number => (cpu / Math.max(f.events, 1)) * 100_000;
    const total = (f: LayoutFigures): number => f.cpu.proxy + f.cpu.redis + f.cpu.forwarder;
    const rate = (f: LayoutFigures): number => f.events / f.seconds;
    const perCpuS = (cpu: number, f: LayoutFigures): number => f.events / Math.max(cpu, 0.001);
    const details: Record<string, string | number> = {
      'events/s (1+1+1)': rate(one),
      'events/s (2+3+2)': rate(spread),
      'CPU s per 100k events (1+1+1)': per100k(total(one), one),
      'CPU s per 100k events (2+3+2)': per100k(total(spread), spread),
    };
    for (const role of ['proxy', 'redis', 'forwarder'] as const) {
      details[`${role} CPU s per 100k events (1+1+1)`] = per100k(one.cpu[role], one);
      details[`${role} CPU s per 100k events (2+3+2)`] = per100k(spread.cpu[role], spread);
      details[`projected events/s per ${role === 'redis' ? 'master' : role} core (2+3+2)`] = perCpuS(
        spread.cpu[role],
        spread,
      );
    }
    return {
      scenario: 'scale',
      metric: 'events/s end to end, 2 proxies + 3 masters + 2 forwarders vs 1 + 1 + 1',
      ours: rate(spread),
      baseline: rate(one),
      ratio: rate(spread) / rate(one),
      goal: 'informational: on 2 shared cores read CPU s per 100k events (the overhead), not events/s',
      met: true,
      details,
    };
  } finally {
    await stop(sink.child);
  }
}
