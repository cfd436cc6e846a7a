/**
 * Question: how much memory does a forwarder take when the queue hands it several near-limit requests at once?
 * (issue 13: twelve 60 MiB requests grew a forwarder past 4 GB.) Enqueues `--jobs` jobs of `--mib` MiB of
 * decompressed intake each, as the proxy would, then runs one spawned forwarder (file output, so the sink costs
 * little) until the queue is empty, and reports its peak RSS (VmHWM from /proc), the drain time, and the longest
 * event-loop delay the forwarder saw: a probe loaded into it (node --import) runs perf_hooks'
 * monitorEventLoopDelay at 10 ms resolution and writes the maximum to a file the bench reads (the process's own
 * histogram samples once a second and is reset by every /metrics scrape).
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
  const probeFile = path.join(data, 'event-loop-delay-max-ns');
  const forwarder = await CliProcess.start(
    'forwarder',
    'forwarder',
    {
      queue: { redis: { url: redis.url }, name: queueName },
      path: { data },
      forwarder: { concurrency: 32, ...extra },
      log: { level: 'warn' },
    },
    [`--import=data:text/javascript,${encodeURIComponent(eventLoopProbe(probeFile))}`],
  );
  // From when its admin port answers: what came before is the process loading its modules.
  const listening = Date.now();
  const pid = forwarder.pid;
  if (pid === undefined) throw new Error('forwarder has no pid');
  let peak = 0;
  let maxDelay = 0;
  const sample = (): void => {
    if (!forwarder.running) return;
    peak = Math.max(peak, peakRss(pid));
    maxDelay = Math.max(maxDelay, eventLoopDelayMax(probeFile, listening));
  };
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    sample();
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
    const left = (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0);
    process.stdout.write(
      `  ${((Date.now() - started) / 1000).toFixed(0)} s: ${left} jobs left, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB, event loop max ${maxDelay.toFixed(2)} s\n`,
    );
    if (left === 0 || !forwarder.running) break;
  }
  sample();
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

/**
 * Loaded into the forwarder: every 250 ms it appends the time and the longest event-loop delay of the last
 * interval (ns) to `file`, so the bench can leave out the process's start (loading modules holds the loop).
 */
function eventLoopProbe(file: string): string {
  return [
    "import { monitorEventLoopDelay } from 'node:perf_hooks';",
    "import { appendFileSync } from 'node:fs';",
    'const h = monitorEventLoopDelay({ resolution: 10 });',
    'h.enable();',
    `setInterval(() => { appendFileSync(${JSON.stringify(file)}, Date.now() + ' ' + h.max + '\\n'); h.reset(); }, 250).unref();`,
  ].join('\n');
}

/** The forwarder's longest event-loop delay in intervals that ended after `since` (ms), seconds. */
function eventLoopDelayMax(file: string, since: number): number {
  let max = 0;
  try {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const [at, ns] = line.split(' ').map(Number);
      if (at !== undefined && ns !== undefined && at > since) max = Math.max(max, ns / 1e9);
    }
  } catch {
    // not written yet
  }
  return max;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
