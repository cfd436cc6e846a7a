import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { Redis } from 'ioredis';

import { freePort } from '../../test/support/ports';
import { RedisServer } from '../../test/support/redis';
import { type AgentRequest, writeRequestsFile } from '../corpus';
import type { LoadResult } from '../load-generator';
import { type BenchPki, firstJsonLine, progress, spawnCli, spawnTs, stop } from '../processes';
import { machineCoresBusy, machineCpu, procStat } from '../procstat';
import type { ScenarioResult } from '../report';

export interface IntakeBenchOptions {
  readonly dir: string;
  readonly pki: BenchPki;
  readonly requests: readonly AgentRequest[];
  readonly seconds: number;
  readonly connections: number;
}

const token = 'bench-secret-token';

function isLoadResult(v: unknown): v is LoadResult {
  return typeof v === 'object' && v !== null && 'requests' in v && 'byStatus' in v;
}

/** Runs the load generator (its own process) against `url` and returns its result. */
export async function runLoad(
  url: string,
  options: IntakeBenchOptions,
  extra: Record<string, unknown> = {},
): Promise<LoadResult> {
  const requestsFile = path.join(options.dir, 'requests.json');
  if (!fs.existsSync(requestsFile)) writeRequestsFile(options.requests, requestsFile);
  const load = spawnTs('bench/load-generator.ts', [
    JSON.stringify({
      url,
      ca: options.pki.caFile,
      token,
      requests: requestsFile,
      seconds: options.seconds,
      connections: options.connections,
      ...extra,
    }),
  ]);
  return firstJsonLine(load, isLoadResult, (options.seconds + 60) * 1000);
}

/** Waits until GET /readyz on the admin port answers 200. */
export async function waitReady(adminPort: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${adminPort}/readyz`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`not ready on admin port ${adminPort} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export interface RunningProxyProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly adminPort: number;
}

/** Starts `apm-sidecar proxy` (built CLI) with TLS and a token against `redisUrl`. */
export async function startProxyProcess(
  options: IntakeBenchOptions,
  redisUrl: string,
  env: Record<string, string> = {},
  nodeArgs: readonly string[] = [],
): Promise<RunningProxyProcess> {
  const port = await freePort();
  const adminPort = await freePort();
  const child = spawnCli(
    ['proxy'],
    {
      PATH: process.env.PATH,
      APM_SIDECAR_HOST: `127.0.0.1:${port}`,
      APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
      APM_SIDECAR_SECRET_TOKEN: token,
      APM_SIDECAR_SSL_CERTIFICATE: options.pki.certFile,
      APM_SIDECAR_SSL_KEY: options.pki.keyFile,
      APM_SIDECAR_REDIS_URL: redisUrl,
      APM_SIDECAR_LOG_LEVEL: 'warn',
      ...env,
    },
    nodeArgs,
  );
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[proxy] ${d.toString()}`));
  child.stdout?.on('data', (d: Buffer) => process.stderr.write(`[proxy] ${d.toString()}`));
  await waitReady(adminPort);
  return { child, url: `https://127.0.0.1:${port}`, adminPort };
}

/** CPU seconds of `pids` over `run`, and the cores the whole machine had busy meanwhile (all processes). */
async function cpuDuring<T>(
  pids: number[],
  run: () => Promise<T>,
): Promise<{ value: T; cpu: number[]; machine: { busy: number; steal: number } }> {
  const before = pids.map((pid) => procStat(pid).cpuSeconds);
  const machineBefore = machineCpu();
  const t0 = process.hrtime.bigint();
  const value = await run();
  const machine = machineCoresBusy(machineBefore, machineCpu(), Number(process.hrtime.bigint() - t0) / 1e9);
  return { value, cpu: pids.map((pid, i) => procStat(pid).cpuSeconds - (before[i] ?? 0)), machine };
}

/**
 * Scenario 1: events/s accepted by `apm-sidecar proxy` (TLS, token, decode, validate, durable enqueue into a real
 * redis-server) against a bare Node HTTPS server that only gunzips and discards the same bodies.
 */
export async function intakeScenario(options: IntakeBenchOptions): Promise<ScenarioResult> {
  progress(`intake: baseline (bare HTTPS + gunzip), ${options.seconds}s, ${options.connections} connections`);
  const baselineServer = spawnTs('bench/baseline-intake-server.ts', [
    JSON.stringify({ port: 0, cert: options.pki.certFile, key: options.pki.keyFile }),
  ]);
  const { port } = await firstJsonLine(
    baselineServer,
    (v): v is { port: number } => typeof v === 'object' && v !== null && 'port' in v,
  );
  const baseline = await cpuDuring([baselineServer.pid ?? 0], () => runLoad(`https://127.0.0.1:${port}`, options));
  await stop(baselineServer);

  progress('intake: apm-sidecar proxy + redis-server');
  const redis = await RedisServer.start();
  try {
    const proxy = await startProxyProcess(options, redis.url);
    const redisPid = Number((await fetchRedisPid(redis)) ?? 0);
    const ours = await cpuDuring([proxy.child.pid ?? 0, redisPid], () => runLoad(proxy.url, options));
    await stop(proxy.child);
    const oursRate = ours.value.eventsAccepted / ours.value.seconds;
    const baseRate = baseline.value.eventsAccepted / baseline.value.seconds;
    const ratio = baseRate > 0 ? oursRate / baseRate : 0;
    return {
      scenario: 'intake',
      metric: 'events/s accepted',
      ours: oursRate,
      baseline: baseRate,
      ratio,
      goal: 'ratio >= 0.5',
      met: ratio >= 0.5,
      details: {
        'requests/s (ours)': ours.value.requests / ours.value.seconds,
        'requests/s (baseline)': baseline.value.requests / baseline.value.seconds,
        'p50 ms (ours)': ours.value.latencyMs.p50,
        'p99 ms (ours)': ours.value.latencyMs.p99,
        'p50 ms (baseline)': baseline.value.latencyMs.p50,
        'p99 ms (baseline)': baseline.value.latencyMs.p99,
        'statuses (ours)': JSON.stringify(ours.value.byStatus),
        'proxy CPU s': ours.cpu[0] ?? 0,
        'redis CPU s': ours.cpu[1] ?? 0,
        'baseline CPU s': baseline.cpu[0] ?? 0,
        'events per proxy CPU s': ours.value.eventsAccepted / Math.max(ours.cpu[0] ?? 1, 0.001),
        'events per baseline CPU s': baseline.value.eventsAccepted / Math.max(baseline.cpu[0] ?? 1, 0.001),
        'proxy cores busy': (ours.cpu[0] ?? 0) / Math.max(ours.value.seconds, 0.001),
        'baseline cores busy': (baseline.cpu[0] ?? 0) / Math.max(baseline.value.seconds, 0.001),
        'load generator CPU s (ours)': ours.value.cpuSeconds,
        'load generator CPU s (baseline)': baseline.value.cpuSeconds,
        'machine cores busy, all processes (ours)': ours.machine.busy,
        'machine cores busy, all processes (baseline)': baseline.machine.busy,
      },
    };
  } finally {
    await redis.destroy();
  }
}

async function fetchRedisPid(redis: RedisServer): Promise<string | undefined> {
  const client = new Redis(redis.url);
  try {
    const info = await client.info('server');
    return /^process_id:(\d+)/m.exec(info)?.[1];
  } finally {
    client.disconnect();
  }
}
