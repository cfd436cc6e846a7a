/**
 * Question: how much memory does a forwarder take when the queue hands it several near-limit requests at once?
 * (issue 13: twelve 60 MiB requests grew a forwarder past 4 GB.) Enqueues `--jobs` jobs of `--mib` MiB of
 * decompressed intake each, as the proxy would, then runs one spawned forwarder (file output, so the sink costs
 * little) until the queue is empty, and reports its peak RSS (VmHWM from /proc), the drain time, and the longest
 * event-loop delay the forwarder saw (perf_hooks.monitorEventLoopDelay, read through its /metrics every half
 * second: `nodejs_eventloop_lag_max_seconds` is the maximum since the previous scrape).
 *   npx tsx bench/forwarder-memory.ts --jobs 6 --mib 30 [--max-inflight-bytes 0]
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { CliProcess } from '../test/e2e/forwarder/processes';
import { enqueue, intakeJob, transactionLine } from '../test/integration/forwarder/support';
import { RedisServer } from '../test/support/redis';
import { peakRss } from './procstat';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '6' },
    mib: { type: 'string', default: '30' },
    'max-inflight-bytes': { type: 'string' },
  },
});
const jobs = Number(values.jobs);
const mib = Number(values.mib);

async function main(): Promise<void> {
  const redis = await RedisServer.start();
  const queueName = `bench-memory-${randomUUID()}`;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  let seq = 0;
  for (let j = 0; j < jobs; j++) {
    const lines: string[] = [];
    for (let size = 0; size < mib * 1024 * 1024; seq++) {
      const line = transactionLine(seq, { context: { custom: { pad: 'x'.repeat(200) } } });
      lines.push(line);
      size += line.length + 1;
    }
    await enqueue(queue, intakeJob(lines));
    process.stdout.write(`enqueued job ${j + 1}/${jobs} (${lines.length} events)\n`);
  }
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-memory-'));
  const extra =
    values['max-inflight-bytes'] === undefined ? {} : { max_inflight_bytes: Number(values['max-inflight-bytes']) };
  const started = Date.now();
  const forwarder = await CliProcess.start('forwarder', 'forwarder', {
    queue: { redis: { url: redis.url }, name: queueName },
    path: { data },
    forwarder: { concurrency: 32, ...extra },
    log: { level: 'warn' },
  });
  const pid = forwarder.pid;
  if (pid === undefined) throw new Error('forwarder has no pid');
  let peak = 0;
  let maxDelay = 0;
  const sample = async (): Promise<void> => {
    if (!forwarder.running) return;
    peak = Math.max(peak, peakRss(pid));
    maxDelay = Math.max(maxDelay, await eventLoopDelayMax(forwarder).catch(() => 0));
  };
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    await sample();
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    const left = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
    process.stdout.write(
      `  ${((Date.now() - started) / 1000).toFixed(0)} s: ${left} jobs left, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB, event loop max ${maxDelay.toFixed(2)} s\n`,
    );
    if (left === 0 || !forwarder.running) break;
  }
  await sample();
  const crashed = !forwarder.running;
  console.log(
    JSON.stringify({
      jobs,
      mib,
      maxInflightBytes: values['max-inflight-bytes'] ?? 'default',
      events: seq,
      peakRssMb: Math.round(peak / 2 ** 20),
      maxEventLoopDelaySeconds: Number(maxDelay.toFixed(3)),
      drainSeconds: (Date.now() - started) / 1000,
      crashed,
      stderr: crashed ? forwarder.stderr.join('').slice(-500) : undefined,
    }),
  );
  await forwarder.kill('SIGTERM');
  await forwarder.destroy();
  await queue.close();
  connection.disconnect();
  await redis.destroy();
  fs.rmSync(data, { recursive: true, force: true });
}

/** The forwarder's longest event-loop delay since the previous scrape, seconds. */
async function eventLoopDelayMax(forwarder: CliProcess): Promise<number> {
  const { body } = await forwarder.admin('/metrics');
  const line = body.split('\n').find((l) => /^apm_sidecar_nodejs_eventloop_lag_max_seconds[{ ]/.test(l));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
