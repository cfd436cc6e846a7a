// Not a test: `npx tsx test/e2e/forwarder/throughput.measure.ts` measures documents/s of one spawned forwarder
// (default flush settings) against the in-process stand-in, with jobs enqueued as the proxy does.
import { randomUUID } from 'node:crypto';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

import { corpusLines } from '../../../bench/corpus';
import { createWriter, enqueue, intakeJob } from '../../integration/forwarder/support';
import { EsStandin } from '../../support/es-standin/server';
import { RedisServer } from '../../support/redis';
import { CliProcess, forwarderProcessConfig } from './processes';

async function main(): Promise<void> {
  const corpus = corpusLines().filter((l) => !l.startsWith('{"metadata"'));
  const jobsCount = Number(process.argv[2] ?? '1000');
  const perJob = 40;
  const redis = await RedisServer.start();
  const standin = await EsStandin.start();
  const writer = await createWriter(standin);
  const queueName = `bench-${randomUUID()}`;
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  for (let j = 0; j < jobsCount; j++) {
    const start = (j * perJob) % Math.max(corpus.length - perJob, 1);
    await enqueue(queue, intakeJob(corpus.slice(start, start + perJob)));
  }
  const config = forwarderProcessConfig(
    redis.url,
    queueName,
    { url: standin.url, caFile: standin.caFile, ...writer },
    {
      output: { elasticsearch: { flush_interval: '1s', backoff: { init: '1s', max: '60s' } } },
      forwarder: { concurrency: Number(process.argv[3] ?? '32') },
      log: { level: 'warn' },
    },
  );
  const started = performance.now();
  const fwd = await CliProcess.start('bench', 'forwarder', config);
  for (;;) {
    const { completed } = await queue.getJobCounts('completed');
    if ((completed ?? 0) >= Math.min(jobsCount, 1000)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (performance.now() - started) / 1000;
  const docs = standin.store.documentCount();
  process.stdout.write(
    `${docs} documents from ${jobsCount} jobs in ${seconds.toFixed(1)} s: ${(docs / seconds).toFixed(0)} documents/s (bulks: ${standin.counters.bulkRequests})\n`,
  );
  await fwd.destroy();
  await queue.close();
  connection.disconnect();
  await standin.close();
  await redis.destroy();
}

void main();
