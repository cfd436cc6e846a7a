import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { Redis } from 'ioredis';

import { redisHz } from '../../cli/start/redis-server';
import { createJobTransformer } from '../../forwarder/transform';
import { freePort } from '../../test/support/ports';
import { RedisServer } from '../../test/support/redis';
import { summariseProfiles } from '../cpu-profile';
import {
  commandsBetween,
  type CommandStats,
  CommandStatsReader,
  heapGauges,
  residentSplit,
  threadSwitches,
  wakeupsPerSecond,
} from '../observe';
import { firstJsonLine, progress, spawnCli, spawnTs, stop } from '../processes';
import { machineCoresBusy, machineCpu, peakRss, procStat } from '../procstat';
import type { Goal, ScenarioResult } from '../report';
import { type PipelineProfile, type ProfiledPass, whereItGoes } from '../where-it-goes';
import { type IntakeBenchOptions, runLoad, startProxyProcess, waitReady } from './intake';

export interface EndToEndOptions extends IntakeBenchOptions {
  /** Agent requests sent through the proxy (each of ~40 events). */
  readonly totalRequests: number;
  readonly forwarders: number;
  /** Seconds of no traffic over which idle CPU is measured (0: not measured). */
  readonly idleSeconds: number;
  /** Seconds from ready to the idle window: startup's own tail (a GC of its garbage) is reported apart. */
  readonly settleSeconds?: number;
  /** Run the profiled pass after the measured one and add its "Where it goes" section (1 forwarder only). */
  readonly profile?: boolean;
  /** Extra environment of the proxy and forwarder processes (a setting under test). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * APM Server 9.5 on this machine kind, same corpus and load, its own fast fake Elasticsearch (issue #16,
 * measured 2026-12-01, not in this run): the reference row of every report.
 */
const apmServer = {
  cpuPer100k: 6.9,
  eventsPerSecond: 11_750,
  bytesPerEvent: 172,
  peakRssMiB: 197,
  idlePercent: 0.25,
  documentsPerBulk: 6000,
};

/** The documents the forwarder will write for `count` requests, made ahead of time for the direct loader. */
function documentsFile(options: EndToEndOptions, count: number): string {
  const file = path.join(options.dir, `docs-${count}.ndjson`);
  const out = fs.openSync(file, 'w');
  for (let i = 0; i < count; i++) {
    const request = options.requests[i % options.requests.length];
    if (request === undefined) break;
    const [metadata = '', ...events] = zlib
      .gunzipSync(request.body)
      .toString('utf8')
      .split('\n')
      .filter((l) => l !== '');
    const transformer = createJobTransformer(metadata, {
      receivedAt: Date.now(),
      client: { ip: '127.0.0.1', userAgent: null },
      identity: { kind: 'anonymous' },
      namespace: 'default',
    });
    const lines = events.flatMap((line) => {
      const result = transformer.transform(line);
      return result.ok
        ? [JSON.stringify({ index: result.doc.dataStream, id: randomUUID(), source: result.doc.source })]
        : [];
    });
    fs.writeSync(out, `${lines.join('\n')}\n`);
  }
  fs.closeSync(out);
  return file;
}

interface SinkStats {
  readonly bulks: number;
  readonly documents: number;
  readonly bytes: number;
  readonly rawBytes: number;
}

export interface Sink {
  readonly child: ChildProcess;
  readonly url: string;
  stats(): Promise<SinkStats>;
  reset(): Promise<void>;
}

export async function startSink(options: IntakeBenchOptions): Promise<Sink> {
  const child = spawnTs('bench/bulk-sink.ts', [
    JSON.stringify({ cert: options.pki.certFile, key: options.pki.keyFile }),
  ]);
  const { port } = await firstJsonLine(
    child,
    (v): v is { port: number } => typeof v === 'object' && v !== null && 'port' in v,
  );
  const url = `https://127.0.0.1:${port}`;
  const ask = async (what: string): Promise<unknown> => {
    const { Agent, request } = await import('undici');
    const dispatcher = new Agent({ connect: { ca: fs.readFileSync(options.pki.caFile) } });
    try {
      const res = await request(`${url}/_sink/${what}`, { dispatcher });
      return await res.body.json();
    } finally {
      await dispatcher.close();
    }
  };
  return {
    child,
    url,
    stats: async () => (await ask('stats')) as SinkStats,
    reset: async () => void (await ask('reset')),
  };
}

export async function waitIndexed(sink: Sink, expected: number, timeoutMs: number): Promise<SinkStats> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await sink.stats();
    if (stats.documents >= expected) return stats;
    if (Date.now() > deadline)
      throw new Error(`only ${stats.documents} of ${expected} documents indexed after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RunningForwarder {
  readonly child: ChildProcess;
  readonly adminPort: number;
}

export async function startForwarder(
  sink: Sink,
  options: IntakeBenchOptions & { readonly env?: Readonly<Record<string, string>> },
  redisUrl: string,
  queue: string,
  nodeArgs: readonly string[] = [],
): Promise<RunningForwarder> {
  const adminPort = await freePort();
  const child = spawnCli(
    ['forwarder'],
    {
      PATH: process.env.PATH,
      APM_SIDECAR_REDIS_URL: redisUrl,
      APM_SIDECAR_QUEUE: queue,
      APM_SIDECAR_ES_HOSTS: sink.url,
      APM_SIDECAR_ES_USERNAME: 'bench',
      APM_SIDECAR_ES_PASSWORD: 'bench-password',
      APM_SIDECAR_ES_CA: options.pki.caFile,
      APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
      APM_SIDECAR_LOG_LEVEL: 'warn',
      ...options.env,
    },
    nodeArgs,
  );
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[forwarder] ${d.toString()}`));
  child.stdout?.on('data', (d: Buffer) => process.stderr.write(`[forwarder] ${d.toString()}`));
  await waitReady(adminPort);
  return { child, adminPort };
}

function isLoaderResult(v: unknown): v is { docs: number; seconds: number; errors: number; cpuSeconds: number } {
  return typeof v === 'object' && v !== null && 'docs' in v && 'seconds' in v;
}

export async function redisPid(url: string): Promise<number> {
  const client = new Redis(url);
  try {
    return Number(/^process_id:(\d+)/m.exec(await client.info('server'))?.[1] ?? '0');
  } finally {
    client.disconnect();
  }
}

interface Measured {
  readonly name: string;
  readonly pid: number;
  /** Part of the pipeline (the sink is not: it stands in for Elasticsearch). */
  readonly ours: boolean;
}

function cpuOf(procs: readonly Measured[]): number[] {
  return procs.map((p) => procStat(p.pid).cpuSeconds);
}

const mib = 1024 * 1024;

function goals(perProcess: Record<string, number>, figures: Record<string, number>): Goal[] {
  const cpu = figures.cpuPer100k ?? 0;
  const eps = figures.eventsPerSecond ?? 0;
  const bytes = figures.bytesPerEvent ?? 0;
  const rss = figures.peakRssMiB ?? 0;
  const idle = figures.idlePercent;
  const list: Goal[] = [
    {
      goal: 'CPU s per 100k events (proxy + redis + forwarder)',
      ours: cpu,
      reference: apmServer.cpuPer100k,
      target: '<= 4.8 (0.7x APM Server)',
      met: cpu <= 4.8,
      key: 'cpu',
      limit: 4.8,
    },
    {
      goal: 'proxy events per CPU s',
      ours: perProcess.proxyEventsPerCpuSecond ?? 0,
      reference: null,
      target: '>= 100,000',
      met: (perProcess.proxyEventsPerCpuSecond ?? 0) >= 100_000,
      key: 'proxy',
      limit: 100_000,
    },
    {
      goal: 'events/s end to end (2 shared cores)',
      ours: eps,
      reference: apmServer.eventsPerSecond,
      target: '>= 12,000',
      met: eps >= 12_000,
      key: 'eps',
      limit: 12_000,
    },
    {
      goal: 'bytes to Elasticsearch per event (gzip)',
      ours: bytes,
      reference: apmServer.bytesPerEvent,
      target: '<= 172',
      met: bytes <= 172,
      key: 'bytes',
      limit: 172,
    },
    {
      goal: 'documents per bulk',
      ours: figures.documentsPerBulk ?? 0,
      reference: apmServer.documentsPerBulk,
      target: 'informational',
      met: true,
    },
    {
      goal: 'peak RSS MiB, all processes',
      ours: rss,
      reference: apmServer.peakRssMiB,
      target: '<= 200',
      met: rss <= 200,
      key: 'rss',
      limit: 200,
    },
  ];
  if (idle !== undefined)
    list.push({
      goal: 'idle CPU, % of a core, all processes',
      ours: idle,
      reference: apmServer.idlePercent,
      target: '<= 0.25',
      met: idle <= 0.25,
      key: 'idle',
      limit: 0.25,
    });
  return list;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sampling interval of the profiled pass, in microseconds. */
const sampleIntervalUs = 250;

/**
 * The profiled pass: the same pipeline on a fresh Redis with every Node process under `node --cpu-prof`, an idle
 * window and then the same load; CPU profiles cut to each window by their sample times, Redis commandstats over
 * each, memory at the end of the load. Only what the report's "Where it goes" reads; nothing here is measured CPU.
 */
async function profiledPass(options: EndToEndOptions, sink: Sink): Promise<PipelineProfile> {
  const dir = path.join(options.dir, `cpu-prof-${randomUUID().slice(0, 8)}`);
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', String(sampleIntervalUs)];
  const redis = await RedisServer.start({ args: ['--hz', String(redisHz)] });
  const procs: ChildProcess[] = [];
  const us = (): number => Number(process.hrtime.bigint() / 1000n);
  try {
    const queue = `bench-${randomUUID()}`;
    const proxy = await startProxyProcess(options, redis.url, { APM_SIDECAR_QUEUE: queue, ...options.env }, nodeArgs);
    procs.push(proxy.child);
    const forwarder = await startForwarder(sink, options, redis.url, queue, nodeArgs);
    procs.push(forwarder.child);
    await sleep((options.settleSeconds ?? 2) * 1000);
    const idleSeconds = Math.min(options.idleSeconds, 30);
    const reader = new CommandStatsReader(redis.url);
    const idleStats = await reader.read();
    const idleWindow = { fromUs: us(), toUs: 0 };
    await sleep(idleSeconds * 1000);
    idleWindow.toUs = us();
    const loadStats = await reader.read();
    await sink.reset();
    const loadWindow = { fromUs: us(), toUs: 0 };
    const load = await runLoad(proxy.url, { ...options, seconds: 600 }, { maxRequests: options.totalRequests });
    await waitIndexed(sink, load.eventsAccepted, 600_000);
    loadWindow.toUs = us();
    const afterLoad = await reader.read();
    reader.close();
    const pids = { proxy: proxy.child.pid ?? 0, forwarder: forwarder.child.pid ?? 0 };
    const memory = {
      proxy: { split: residentSplit(pids.proxy), heap: await heapGauges(proxy.adminPort) },
      forwarder: { split: residentSplit(pids.forwarder), heap: await heapGauges(forwarder.adminPort) },
    };
    const redisMemory = residentSplit(await redisPid(redis.url));
    const client = new Redis(redis.url);
    const usedMemory = Number(/^used_memory:(\d+)/m.exec(await client.info('memory'))?.[1] ?? 0);
    client.disconnect();
    await Promise.all(procs.map((p) => stop(p)));
    const idle = commandsBetween(idleStats, loadStats);
    return {
      events: load.eventsAccepted,
      requests: load.requests,
      idleSeconds,
      sampleIntervalUs,
      processes: (['proxy', 'forwarder'] as const).map((name) => ({
        name,
        load: summariseProfiles(dir, pids[name], loadWindow, 40),
        idle: summariseProfiles(dir, pids[name], idleWindow, 5),
        memory: memory[name].split,
        heap: memory[name].heap,
      })),
      redis: { load: commandsBetween(loadStats, afterLoad), idle, memory: redisMemory, usedMemory },
    };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await redis.destroy();
  }
}

/**
 * Scenario 2: the whole pipeline, proxy -> Redis (AOF everysec) -> forwarder(s) -> a sink that costs far less than
 * the pipeline (bench/bulk-sink.ts), from the first request to the last document answered, against a direct
 * _bulk loader writing the same documents to the same sink. CPU of every process from /proc; peak RSS (VmHWM);
 * idle CPU over `idleSeconds` of no traffic before the load; documents per bulk and bytes per event at the sink.
 */
export async function endToEndScenario(options: EndToEndOptions): Promise<ScenarioResult> {
  const sink = await startSink(options);
  // As `start` and the compose file run it (hz 1, see cli/start/redis-server.ts).
  const redis = await RedisServer.start({ args: ['--hz', String(redisHz)] });
  const procs: ChildProcess[] = [];
  try {
    const label = `${options.forwarders} forwarder${options.forwarders > 1 ? 's' : ''}`;
    progress(`end-to-end (${label}): baseline direct _bulk loader`);
    const docs = documentsFile(options, options.totalRequests);
    const loader = spawnTs('bench/baseline-bulk-loader.ts', [
      JSON.stringify({
        url: sink.url,
        ca: options.pki.caFile,
        username: 'bench',
        password: 'bench-password',
        docs,
        concurrency: 4,
        flushBytes: 5 * 1024 * 1024,
      }),
    ]);
    const baseline = await firstJsonLine(loader, isLoaderResult, 600_000);
    await sink.reset();

    progress(`end-to-end: apm-sidecar proxy + ${label}, ${options.totalRequests} requests`);
    const queue = `bench-${randomUUID()}`;
    const proxy = await startProxyProcess(options, redis.url, { APM_SIDECAR_QUEUE: queue, ...options.env });
    procs.push(proxy.child);
    const forwarders: ChildProcess[] = [];
    for (let i = 0; i < options.forwarders; i++)
      forwarders.push((await startForwarder(sink, options, redis.url, queue)).child);
    procs.push(...forwarders);
    const measured: Measured[] = [
      { name: 'proxy', pid: proxy.child.pid ?? 0, ours: true },
      { name: 'redis', pid: await redisPid(redis.url), ours: true },
      ...forwarders.map((f, i) => ({
        name: i === 0 ? 'forwarder' : `forwarder ${i + 1}`,
        pid: f.pid ?? 0,
        ours: true,
      })),
      { name: 'sink', pid: sink.child.pid ?? 0, ours: false },
    ];

    let idle: number[] | null = null;
    let settled: number[] | null = null;
    let wakeups: Record<string, { main: number; others: number }> | null = null;
    let idleCommands: CommandStats | null = null;
    if (options.idleSeconds > 0) {
      const settle = options.settleSeconds ?? 2;
      const atReady = cpuOf(measured);
      await sleep(settle * 1000);
      progress(`end-to-end: idle CPU over ${options.idleSeconds} s (after ${settle} s settling)`);
      const before = cpuOf(measured);
      settled = before.map((c, i) => c - (atReady[i] ?? 0));
      const switches = measured.map((p) => threadSwitches(p.pid));
      const reader = new CommandStatsReader(redis.url);
      const commands = await reader.read();
      const t = process.hrtime.bigint();
      await sleep(options.idleSeconds * 1000);
      const s = Number(process.hrtime.bigint() - t) / 1e9;
      idle = cpuOf(measured).map((c, i) => ((c - (before[i] ?? 0)) / s) * 100);
      idleCommands = commandsBetween(commands, await reader.read());
      reader.close();
      wakeups = Object.fromEntries(
        measured.map((p, i) => [p.name, wakeupsPerSecond(switches[i] ?? threadSwitches(0), threadSwitches(p.pid), s)]),
      );
    }

    const cpuBefore = cpuOf(measured);
    const machineBefore = machineCpu();
    const t0 = process.hrtime.bigint();
    const load = await runLoad(proxy.url, { ...options, seconds: 600 }, { maxRequests: options.totalRequests });
    const stats = await waitIndexed(sink, load.eventsAccepted, 600_000);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = cpuOf(measured).map((c, i) => c - (cpuBefore[i] ?? 0));
    const machine = machineCoresBusy(machineBefore, machineCpu(), seconds);
    const rss = measured.map((p) => peakRss(p.pid) / mib);
    const events = load.eventsAccepted;
    const per100k = (c: number): number => (c / Math.max(events, 1)) * 100_000;

    const details: Record<string, string | number> = {
      documents: events,
      'seconds (ours)': seconds,
      'seconds (baseline)': baseline.seconds,
      statuses: JSON.stringify(load.byStatus),
    };
    let oursCpu = 0;
    let oursRss = 0;
    let oursIdle = 0;
    measured.forEach((p, i) => {
      details[`${p.name} CPU s per 100k events`] = per100k(cpu[i] ?? 0);
      details[`${p.name} peak RSS MiB`] = rss[i] ?? 0;
      if (idle !== null) details[`${p.name} idle % of a core`] = idle[i] ?? 0;
      if (settled !== null) details[`${p.name} CPU s while settling`] = settled[i] ?? 0;
      if (p.ours) {
        oursCpu += cpu[i] ?? 0;
        oursRss += rss[i] ?? 0;
        oursIdle += idle?.[i] ?? 0;
      }
    });
    const figures: Record<string, number> = {
      cpuPer100k: per100k(oursCpu),
      eventsPerSecond: events / seconds,
      bytesPerEvent: stats.bytes / Math.max(stats.documents, 1),
      documentsPerBulk: stats.documents / Math.max(stats.bulks, 1),
      peakRssMiB: oursRss,
      ...(idle !== null ? { idlePercent: oursIdle } : {}),
    };
    Object.assign(details, {
      'pipeline CPU s per 100k events': figures.cpuPer100k ?? 0,
      'pipeline peak RSS MiB': oursRss,
      ...(idle !== null
        ? {
            'pipeline idle % of a core': oursIdle,
            'idle window s': options.idleSeconds,
            'settling s before it': options.settleSeconds ?? 2,
          }
        : {}),
      bulks: stats.bulks,
      'documents per bulk': figures.documentsPerBulk ?? 0,
      'bytes to Elasticsearch per event': figures.bytesPerEvent ?? 0,
      'uncompressed bulk bytes per event': stats.rawBytes / Math.max(stats.documents, 1),
      'load generator CPU s per 100k events': per100k(load.cpuSeconds),
      'direct loader CPU s per 100k events (baseline)': (baseline.cpuSeconds / Math.max(baseline.docs, 1)) * 100_000,
      // Every process on the machine over the load, ours or not (other work shares the cores).
      'machine cores busy, all processes': machine.busy,
      'machine cores stolen (hypervisor)': machine.steal,
      'machine cores': os.cpus().length,
    });
    const proxyCpu = cpu[0] ?? 0;
    const goalList = goals({ proxyEventsPerCpuSecond: events / Math.max(proxyCpu, 0.001) }, figures);
    let sections: string[] | undefined;
    let profiled: ProfiledPass | undefined;
    if (options.profile === true && options.forwarders === 1) {
      progress('end-to-end: profiled pass (node --cpu-prof; not measured)');
      const profile = await profiledPass(options, sink);
      const by = (values: readonly number[]): Record<string, number> =>
        Object.fromEntries(measured.filter((p) => p.ours).map((p) => [p.name, values[measured.indexOf(p)] ?? 0]));
      profiled = {
        pass: profile,
        measured: {
          cpuPer100k: by(cpu.map(per100k)),
          peakRssMiB: by(rss),
          idlePercent: idle === null ? null : by(idle),
          wakeups,
          idleCommands,
          idleSeconds: options.idleSeconds,
        },
      };
      sections = whereItGoes(profiled.pass, profiled.measured);
    }
    const ours = events / seconds;
    const base = baseline.docs / baseline.seconds;
    const ratio = ours / base;
    return {
      scenario: options.forwarders > 1 ? `end-to-end, ${options.forwarders} forwarders` : 'end-to-end',
      metric: 'documents/s indexed',
      ours,
      baseline: base,
      ratio,
      goal: 'ratio >= 0.8',
      met: ratio >= 0.8,
      details,
      ...(options.forwarders > 1 ? {} : { goals: goalList }),
      ...(sections === undefined ? {} : { sections }),
      ...(profiled === undefined ? {} : { profile: profiled }),
    };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await redis.destroy();
    await stop(sink.child);
  }
}
