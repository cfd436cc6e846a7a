/**
 * The forwarder's share of the end-to-end scenario, alone and repeated: proxy -> Redis (AOF everysec, hz 1) -> one
 * forwarder -> bench/bulk-sink.ts, as bench/scenarios/end-to-end.ts runs them, without the direct loader and the
 * idle window. Prints one JSON line per run: forwarder CPU s per 100k events (from /proc), its peak RSS (VmHWM), the
 * proxy's and Redis' CPU and peak RSS, documents per bulk and bytes to Elasticsearch per event.
 *
 *   npm run build && npx tsx scripts/forwarder-cpu.ts [runs] [requests] [KEY=VALUE ...]
 *
 * KEY=VALUE pairs go to the forwarder's environment (APM_SIDECAR_* settings, MALLOC_ARENA_MAX=2 ...), except
 * NODE_FLAGS="--max-semi-space-size=4 ...": Node flags of the forwarder after the product's own (bench/node-flags.ts),
 * so they win. With BENCH_CPU_PROF_DIR=dir the proxy and the forwarder write V8 CPU profiles there.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { agentRequests } from '../bench/corpus';
import { makePki, stop } from '../bench/processes';
import { peakRss, procStat } from '../bench/procstat';
import { redisPid, startForwarder, startSink, waitIndexed } from '../bench/scenarios/end-to-end';
import { runLoad, startProxyProcess } from '../bench/scenarios/intake';
import { redisHz } from '../cli/start/redis-server';
import { RedisServer } from '../test/support/redis';

async function main(): Promise<void> {
  const [runsArg = '3', requestsArg = '3000', ...pairs] = process.argv.slice(2);
  const { NODE_FLAGS: nodeFlags = '', ...env } = Object.fromEntries(
    pairs.map((p) => {
      const at = p.indexOf('=');
      return [p.slice(0, at), p.slice(at + 1)];
    }),
  );
  const nodeArgs = nodeFlags.split(' ').filter((f) => f !== '');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'forwarder-cpu-'));
  const options = { dir, pki: makePki(dir), requests: agentRequests(40), seconds: 600, connections: 16 };
  const sink = await startSink(options);
  try {
    for (let run = 0; run < Number(runsArg); run++) {
      const redis = await RedisServer.start({ args: ['--hz', String(redisHz)] });
      const queue = `bench-${randomUUID()}`;
      const children: ChildProcess[] = [];
      try {
        const proxy = await startProxyProcess(options, redis.url, { APM_SIDECAR_QUEUE: queue });
        children.push(proxy.child);
        const forwarder = (await startForwarder(sink, { ...options, env }, redis.url, queue, nodeArgs)).child;
        children.push(forwarder);
        await sink.reset();
        const pids = [forwarder.pid ?? 0, proxy.child.pid ?? 0, await redisPid(redis.url)];
        const before = pids.map((pid) => procStat(pid).cpuSeconds);
        const readyRss = peakRss(forwarder.pid ?? 0);
        const t0 = process.hrtime.bigint();
        const load = await runLoad(proxy.url, options, { maxRequests: Number(requestsArg) });
        const stats = await waitIndexed(sink, load.eventsAccepted, 600_000);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const per100k = pids.map(
          (pid, i) => ((procStat(pid).cpuSeconds - (before[i] ?? 0)) / load.eventsAccepted) * 1e5,
        );
        process.stdout.write(
          `${JSON.stringify({
            run,
            events: load.eventsAccepted,
            seconds: Number(seconds.toFixed(2)),
            forwarderCpuPer100k: Number(per100k[0]?.toFixed(2)),
            proxyCpuPer100k: Number(per100k[1]?.toFixed(2)),
            redisCpuPer100k: Number(per100k[2]?.toFixed(2)),
            forwarderPeakRssMiB: Number((peakRss(forwarder.pid ?? 0) / 1024 / 1024).toFixed(1)),
            forwarderReadyRssMiB: Number((readyRss / 1024 / 1024).toFixed(1)),
            proxyPeakRssMiB: Number((peakRss(pids[1] ?? 0) / 1024 / 1024).toFixed(1)),
            redisPeakRssMiB: Number((peakRss(pids[2] ?? 0) / 1024 / 1024).toFixed(1)),
            documentsPerBulk: Math.round(stats.documents / Math.max(stats.bulks, 1)),
            bytesPerEvent: Number((stats.bytes / Math.max(stats.documents, 1)).toFixed(2)),
            load1: Number(os.loadavg()[0]?.toFixed(2)),
          })}\n`,
        );
      } finally {
        for (const child of children.reverse()) await stop(child);
        await redis.destroy();
      }
    }
  } finally {
    await stop(sink.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
