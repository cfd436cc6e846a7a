/**
 * CPU per event of `apm-sidecar proxy` (and of the Redis it writes to) over a fixed number of agent requests,
 * from /proc (utime + stime), for comparing builds side by side on a shared machine: each round starts every
 * given build once, in turn, each on a fresh redis-server, warms it up, then sends the same requests.
 *
 *   npx tsx scripts/proxy-cpu.ts '{"clis":["dist/cli/apm-sidecar.js","data/base-dist/cli/apm-sidecar.js"],"rounds":3}'
 *
 * With "profileDir", each proxy writes a V8 CPU profile there when it stops (node --cpu-prof). Each proxy runs with
 * the Node flags the product gives it (bench/node-flags.ts), then "nodeArgs".
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { agentRequests } from '../bench/corpus';
import { productNodeFlags } from '../bench/node-flags';
import { makePki, repoRoot, stop } from '../bench/processes';
import { peakRss, procStat } from '../bench/procstat';
import { type IntakeBenchOptions, runLoad, waitReady } from '../bench/scenarios/intake';
import { freePort } from '../test/support/ports';
import { RedisServer } from '../test/support/redis';

interface Options {
  readonly clis: readonly string[];
  readonly rounds?: number;
  readonly requests?: number;
  readonly warmup?: number;
  readonly connections?: number;
  readonly profileDir?: string;
  readonly env?: Record<string, string>;
  /** Node flags for the proxy after the product's (e.g. --perf-basic-prof). */
  readonly nodeArgs?: readonly string[];
}

interface Sample {
  readonly cli: string;
  readonly events: number;
  readonly proxyCpu: number;
  readonly redisCpu: number;
  readonly statuses: Record<string, number>;
  readonly peakRssMiB: number;
}

async function startProxy(
  cli: string,
  options: IntakeBenchOptions,
  redisUrl: string,
  extra: Options,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const adminPort = await freePort();
  const profile = extra.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${extra.profileDir}`];
  const child = spawn(
    process.execPath,
    [...productNodeFlags('proxy'), ...profile, ...(extra.nodeArgs ?? []), path.resolve(repoRoot, cli), 'proxy'],
    {
      env: {
        PATH: process.env.PATH,
        APM_SIDECAR_HOST: `127.0.0.1:${port}`,
        APM_SIDECAR_ADMIN_HOST: `127.0.0.1:${adminPort}`,
        APM_SIDECAR_SECRET_TOKEN: 'bench-secret-token',
        APM_SIDECAR_SSL_CERTIFICATE: options.pki.certFile,
        APM_SIDECAR_SSL_KEY: options.pki.keyFile,
        APM_SIDECAR_REDIS_URL: redisUrl,
        APM_SIDECAR_LOG_LEVEL: 'warn',
        ...extra.env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  await waitReady(adminPort);
  return { child, url: `https://127.0.0.1:${port}` };
}

async function measure(cli: string, bench: IntakeBenchOptions, options: Options): Promise<Sample> {
  const redis = await RedisServer.start();
  try {
    const proxy = await startProxy(cli, bench, redis.url, options);
    try {
      const pid = proxy.child.pid ?? 0;
      const redisPid = redis.pid ?? 0;
      const warmup = options.warmup ?? 300;
      if (warmup > 0) await runLoad(proxy.url, bench, { maxRequests: warmup, seconds: 60 });
      const before = [procStat(pid).cpuSeconds, procStat(redisPid).cpuSeconds];
      const load = await runLoad(proxy.url, bench, { maxRequests: options.requests ?? 3000, seconds: 120 });
      const after = [procStat(pid).cpuSeconds, procStat(redisPid).cpuSeconds];
      return {
        cli,
        events: load.eventsAccepted,
        proxyCpu: (after[0] ?? 0) - (before[0] ?? 0),
        redisCpu: (after[1] ?? 0) - (before[1] ?? 0),
        statuses: load.byStatus,
        peakRssMiB: Math.round(peakRss(pid) / 2 ** 20),
      };
    } finally {
      await stop(proxy.child, 'SIGINT');
    }
  } finally {
    await redis.stop();
  }
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as Options;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apm-sidecar-proxy-cpu-'));
  const bench: IntakeBenchOptions = {
    dir,
    pki: makePki(dir),
    requests: agentRequests(),
    seconds: 60,
    connections: options.connections ?? 16,
  };
  const samples: Sample[] = [];
  for (let round = 0; round < (options.rounds ?? 1); round++) {
    for (const cli of options.clis) {
      const sample = await measure(cli, bench, options);
      samples.push(sample);
      const per100k = (cpu: number): string => ((cpu / sample.events) * 1e5).toFixed(3);
      process.stdout.write(
        `${JSON.stringify({
          round,
          cli,
          events: sample.events,
          proxyCpuPer100k: per100k(sample.proxyCpu),
          redisCpuPer100k: per100k(sample.redisCpu),
          proxyEventsPerCpuS: Math.round(sample.events / sample.proxyCpu),
          statuses: sample.statuses,
          peakRssMiB: sample.peakRssMiB,
        })}\n`,
      );
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  process.stderr.write(`proxy-cpu: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
